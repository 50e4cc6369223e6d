// The lists: which endpoint, which columns (and the server's sort fields), which filters.
import type { JSX } from "preact";
import { Badge, Link, Time } from "./components";
import { formatBytes } from "./format";
import type { ListDef } from "./pages/ListPage";
import { controllers } from "./state";
import type { Item } from "./types";

const text = (v: unknown): string => (v === null || v === undefined ? "" : String(v));
export const field = (item: Item, path: string): unknown =>
  path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), item);

export function clusterHref(xid: string, clusterId: unknown): string {
  return `/clusters/${encodeURIComponent(xid)}/${encodeURIComponent(text(clusterId))}`;
}

function controllerName(item: Item): string {
  const xid = text(item.xid);
  const known = controllers.value?.find((c) => c.xid === xid);
  return known?.controller_name || text(item.controller_url) || xid;
}

const controllerColumn = { label: "Controller", render: (i: Item) => controllerName(i) };
const clusterColumn = (key = "cluster_id") => ({
  label: "Cluster", sort: "cluster_id",
  render: (i: Item): JSX.Element | string => {
    const id = field(i, key);
    return id === undefined || id === null || id === "" ? "" : <Link href={clusterHref(text(i.xid), id)}>{text(id)}</Link>;
  },
});

const CLUSTER_STATES = ["STARTED", "DEGRADED", "FAILURE", "FAILED", "STOPPED", "STARTING", "SHUTTING_DOWN", "RECOVERING", "UNKNOWN"];
const HOST_STATES = ["CmonHostOnline", "CmonHostOffLine", "CmonHostFailed", "CmonHostRecovery", "CmonHostShutDown", "CmonHostUnknown"];
const SEVERITIES = ["ALARM_CRITICAL", "ALARM_WARNING"];
const JOB_STATES = ["DEFINED", "DEQUEUED", "RUNNING", "FINISHED", "FAILED", "ABORTED"];
const BACKUP_STATES = ["Completed", "Failed", "Running"];
const common = [{ key: "xid", label: "Controller", options: "controllers" as const },
  { key: "cluster_type", label: "Cluster type" }, { key: "tags", label: "Tags (all of)" }];

const clusterColumns = [
  { label: "Name", render: (i: Item) => <Link href={clusterHref(text(i.xid), i.cluster_id)}>{text(i.cluster_name) || `#${text(i.cluster_id)}`}</Link> },
  { label: "ID", sort: "cluster_id", render: (i: Item) => text(i.cluster_id) },
  controllerColumn,
  { label: "Type", sort: "cluster_type", render: (i: Item) => text(i.cluster_type) },
  { label: "State", sort: "state", render: (i: Item) => <Badge state={text(i.state)} /> },
  { label: "Vendor / version", render: (i: Item) => [text(i.vendor), text(i.version)].filter(Boolean).join(" ") },
  { label: "Tags", render: (i: Item) => ((i.tags as string[] | undefined) ?? []).join(", ") },
];
const clusterKey = (i: Item): string => `${text(i.xid)}-${text(i.cluster_id)}`;

export const LISTS: ListDef[] = [
  {
    path: "/clusters", title: "Clusters", endpoint: "/proxy/clusters/list", itemsKey: "clusters", noun: "clusters",
    columns: clusterColumns, rowKey: clusterKey,
    filters: [common[0], { key: "state", label: "State", options: CLUSTER_STATES }, common[1], common[2]],
  },
  {
    path: "/hosts", title: "Hosts", endpoint: "/proxy/clusters/hosts", itemsKey: "hosts", noun: "hosts",
    rowKey: (i) => `${text(i.xid)}-${text(i.clusterid)}-${text(i.hostname)}-${text(i.port)}`,
    columns: [
      { label: "Host", sort: "hostname", render: (i) => text(i.hostname) },
      { label: "Port", sort: "port", render: (i) => text(i.port) },
      clusterColumn("clusterid"), controllerColumn,
      { label: "Type", sort: "nodetype", render: (i) => text(i.nodetype) },
      { label: "Role", sort: "role", render: (i) => text(i.role) },
      { label: "Status", sort: "hoststatus", render: (i) => <Badge state={text(i.hoststatus)} /> },
      { label: "Version", render: (i) => text(i.version) },
    ],
    filters: [common[0], { key: "hoststatus", label: "Status", options: HOST_STATES }, { key: "nodetype", label: "Node type" },
      { key: "role", label: "Role" }, common[1], common[2]],
  },
  {
    path: "/alarms", title: "Alarms", endpoint: "/proxy/alarms/list", itemsKey: "alarms", noun: "alarms",
    rowKey: (i) => `${text(i.xid)}-${text(i.cluster_id)}-${text(i.alarm_id)}`,
    columns: [
      { label: "Raised", sort: "created", render: (i) => <Time value={text(i.created)} /> },
      { label: "Severity", sort: "severity_name", render: (i) => <Badge state={text(i.severity_name)} /> },
      { label: "Title", render: (i) => <span title={text(i.message)}>{text(i.title)}</span> },
      { label: "Host", sort: "hostname", render: (i) => text(i.hostname) },
      { label: "Component", sort: "component_name", render: (i) => text(i.component_name) },
      { label: "Type", sort: "type_name", render: (i) => text(i.type_name) },
      clusterColumn(), controllerColumn,
    ],
    filters: [common[0], { key: "severity_name", label: "Severity", options: SEVERITIES }, { key: "type_name", label: "Type" },
      { key: "hostname", label: "Host" }, { key: "ignored", label: "Ignored", options: ["0", "1"] }, common[1], common[2]],
  },
  {
    path: "/jobs", title: "Jobs", endpoint: "/proxy/jobs/list", itemsKey: "jobs", noun: "jobs",
    note: "Jobs of the jobs window (fetch_jobs_hours).",
    rowKey: (i) => `${text(i.xid)}-${text(i.job_id)}`,
    columns: [
      { label: "ID", sort: "job_id", render: (i) => text(i.job_id) },
      { label: "Title", sort: "title", render: (i) => text(i.title) },
      { label: "Command", sort: "job_command", render: (i) => text(field(i, "job_spec.command")) },
      { label: "Status", sort: "status", render: (i) => <Badge state={text(i.status)} /> },
      { label: "Created", sort: "created", render: (i) => <Time value={text(i.created)} /> },
      clusterColumn(), controllerColumn,
    ],
    filters: [common[0], { key: "status", label: "Status", options: JOB_STATES }, { key: "job_command", label: "Command" },
      { key: "cluster_id", label: "Cluster ID" }, common[1], common[2]],
  },
  {
    path: "/backups", title: "Backups", endpoint: "/proxy/backups/list", itemsKey: "backups", noun: "backups",
    note: "Backups of the backups window (fetch_backups_days).",
    rowKey: (i) => `${text(i.xid)}-${text(field(i, "metadata.id"))}`,
    columns: [
      { label: "ID", sort: "id", render: (i) => text(field(i, "metadata.id")) },
      { label: "Method", sort: "method", render: (i) => text(field(i, "metadata.method")) },
      { label: "Status", sort: "status", render: (i) => <Badge state={text(field(i, "metadata.status"))} /> },
      { label: "Created", sort: "created", render: (i) => <Time value={text(field(i, "metadata.created"))} /> },
      { label: "Size", render: (i) => formatBytes(backupSize(i)) },
      clusterColumn("metadata.cid"), controllerColumn,
    ],
    filters: [common[0], { key: "status", label: "Status", options: BACKUP_STATES }, { key: "method", label: "Method" },
      { key: "cluster_id", label: "Cluster ID" }, common[1], common[2]],
  },
  {
    path: "/schedules", title: "Backup schedules", endpoint: "/proxy/backups/schedules", itemsKey: "jobs", noun: "backup schedules",
    rowKey: (i) => `${text(i.xid)}-${text(i.job_id)}`,
    columns: [
      { label: "ID", sort: "job_id", render: (i) => text(i.job_id) },
      { label: "Title", sort: "title", render: (i) => text(i.title) },
      { label: "Recurrence", render: (i) => text(i.recurrence) },
      { label: "Status", sort: "status", render: (i) => <Badge state={text(i.status)} /> },
      clusterColumn(), controllerColumn,
    ],
    filters: [common[0], { key: "cluster_id", label: "Cluster ID" }, common[1], common[2]],
  },
  {
    path: "/missing-schedules", title: "Clusters without a backup schedule", endpoint: "/proxy/clusters/missingSchedules",
    itemsKey: "clusters", noun: "clusters", columns: clusterColumns, rowKey: clusterKey,
    filters: [{ key: "state", label: "State", options: CLUSTER_STATES }, common[1], common[2]],
  },
  {
    path: "/logs", title: "Logs", endpoint: "/proxy/logs/list", itemsKey: "logs", noun: "log entries",
    rowKey: (i) => `${text(i.xid)}-${text(i.log_id)}`,
    columns: [
      { label: "Time", sort: "created", render: (i) => <Time value={text(i.created)} /> },
      { label: "Severity", sort: "severity", render: (i) => text(i.severity).replace(/^LOG_/, "") },
      { label: "Message", render: (i) => text(field(i, "log_specifics.message_text")) },
      clusterColumn("log_specifics.cluster_id"), controllerColumn,
    ],
    filters: [common[0], { key: "cluster_id", label: "Cluster ID" }, common[1], common[2]],
  },
  {
    path: "/audit", title: "Audit log", endpoint: "/proxy/audit/list", itemsKey: "entries", noun: "audit entries",
    rowKey: (i) => `${text(i.xid)}-${text(i.cluster_id)}-${text(i.report_ts)}-${text(i.message_text)}`,
    columns: [
      { label: "Time", sort: "report_ts", render: (i) => <Time value={text(i.report_ts)} /> },
      { label: "Type", sort: "entry_type", render: (i) => text(i.entry_type) },
      { label: "User", render: (i) => text(i.username) },
      { label: "Client", render: (i) => text(i.client_hostname) },
      { label: "Message", render: (i) => text(i.message_text) },
      clusterColumn(), controllerColumn,
    ],
    filters: [common[0], { key: "cluster_id", label: "Cluster ID" }, common[1], common[2]],
  },
];

function backupSize(item: Item): number | null {
  const sets = field(item, "metadata.backup");
  if (!Array.isArray(sets)) return null;
  let total = 0;
  for (const set of sets) {
    for (const file of (set as { files?: { size?: number }[] }).files ?? []) total += Number(file.size ?? 0);
  }
  return total;
}

