// Shapes of the public API's replies (docs/compatibility.md, cmon-proxy spec §2.6, §2.7, §4).

export type Counts = Record<string, number>;

export interface User {
  username: string;
  email?: string;
  firstname?: string;
  lastname?: string;
  admin?: boolean;
  ldap?: boolean;
}

export interface ControllerStatus {
  xid: string;
  controller_id: string;
  controller_name: string;
  url: string;
  frontend_url?: string;
  version: string;
  status_message: string;
  ldap: boolean;
  // How ccmgr logs in to it (ccmgr's addition; absent from cmon-proxy).
  login?: "password" | "keyfile" | "ldap" | "cmon";
  status: "ok" | "failed" | "authentication-error";
  last_updated: string;
  last_seen: string;
}

export interface ClustersStatus {
  cluster_states?: Counts;
  node_states?: Counts;
  clusters_count?: Counts;
  nodes_count?: Counts;
}

export interface AlarmsStatus { alarms_count?: Counts; alarm_types?: Counts }
export interface JobsStatus { job_count?: Counts; job_commands?: Counts }
export interface BackupsStatus {
  backups_count?: Counts;
  missing_schedules?: number;
  schedules_count?: number;
}

export interface Host {
  hostname: string;
  port?: number;
  hoststatus?: string;
  nodetype?: string;
  role?: string;
  clusterid?: number;
  version?: string;
  message?: string;
  xid?: string;
}

export interface Cluster {
  xid: string;
  controller_id: string;
  controller_url: string;
  cluster_id: number;
  cluster_name: string;
  cluster_type: string;
  state: string;
  vendor?: string;
  version?: string;
  tags?: string[];
  hosts?: Host[];
  maintenance_mode_active?: boolean;
}

export type Item = Record<string, unknown>;

export interface ListReply {
  page?: number;
  perPage?: number;
  total?: number;
  [items: string]: unknown;
}

export interface Peer {
  name: string;
  address: string;
  in_sync: boolean;
  generation: number | null;
  lag_generations: number | null;
  last_sync_age_s: number | null;
  error: string;
}

export interface Health {
  status: string;
  node: string;
  role: string;
  epoch: number;
  generation: number;
  version: string;
  sha256?: string;
  peers?: Peer[];
  following?: string;
  last_received_age_s?: number;
  warnings?: string[];
  problems?: string[];
}
