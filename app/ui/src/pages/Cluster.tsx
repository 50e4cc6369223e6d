// One cluster (by controller xid and cluster id) and its hosts.
import type { JSX } from "preact";
import { Badge, Empty, ErrorBox, Link, Loading } from "../components";
import { controllers, useApi, useValue } from "../state";
import type { Cluster, ListReply } from "../types";
import { listHref } from "../urlstate";

export function ClusterPage({ xid, id }: { xid: string; id: string }): JSX.Element {
  const known = useValue(controllers) ?? [];
  const { data, error, loading } = useApi<ListReply>("/proxy/clusters/list", {
    with_hosts: true,
    filters: [{ key: "xid", value: xid }, { key: "cluster_id", value: id }],
  });
  const cluster = (data?.clusters as Cluster[] | undefined)?.[0];
  const controller = known.find((c) => c.xid === xid);
  const hosts = (cluster?.hosts ?? []).filter((h) => h.nodetype !== "controller");
  return (
    <>
      <p><Link href="/clusters">← Clusters</Link></p>
      <ErrorBox error={error} title="Could not load the cluster" />
      {data === null && loading && <Loading what="the cluster" />}
      {data !== null && !cluster && <Empty>No cluster {id} on this controller (it may have been removed).</Empty>}
      {cluster && (
        <>
          <h2>{cluster.cluster_name || `Cluster ${cluster.cluster_id}`} <Badge state={cluster.state} /></h2>
          <dl class="facts card">
            <dt>Controller</dt><dd>{controller?.controller_name || cluster.controller_url}</dd>
            <dt>Cluster ID</dt><dd>{String(cluster.cluster_id)}</dd>
            <dt>Type</dt><dd>{cluster.cluster_type}</dd>
            <dt>Vendor / version</dt><dd>{[cluster.vendor, cluster.version].filter(Boolean).join(" ") || "–"}</dd>
            <dt>Tags</dt><dd>{(cluster.tags ?? []).join(", ") || "–"}</dd>
            <dt>Maintenance</dt><dd>{cluster.maintenance_mode_active ? "active" : "no"}</dd>
          </dl>
          <p>
            <Link href={listHref("/alarms", { xid, cluster_id: id })}>Alarms</Link> ·{" "}
            <Link href={listHref("/jobs", { xid, cluster_id: id })}>Jobs</Link> ·{" "}
            <Link href={listHref("/backups", { xid, cluster_id: id })}>Backups</Link> ·{" "}
            <Link href={listHref("/logs", { xid, cluster_id: id })}>Logs</Link>
          </p>
          <h3>Hosts</h3>
          {hosts.length === 0 ? <Empty>This cluster has no hosts.</Empty> : (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Hosts of the cluster</caption>
                <thead><tr><th scope="col">Host</th><th scope="col">Port</th><th scope="col">Type</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Version</th><th scope="col">Message</th></tr></thead>
                <tbody>
                  {hosts.map((h) => (
                    <tr key={`${h.hostname}:${h.port ?? ""}`}>
                      <td>{h.hostname}</td><td>{h.port ?? ""}</td><td>{h.nodetype ?? ""}</td><td>{h.role ?? ""}</td>
                      <td><Badge state={h.hoststatus ?? ""} /></td><td>{h.version ?? ""}</td><td>{h.message ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </>
  );
}
