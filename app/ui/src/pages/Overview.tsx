// The overview: one tile per controller, then charts of the status endpoints; every number
// links to the filtered list behind it.
import type { JSX } from "preact";
import { BarChart, barsOf } from "../chart";
import { Badge, ErrorBox, Link, Loading, Num, safeHttpUrl, Time } from "../components";
import { useApi, useValue, controllers as controllersValue } from "../state";
import type { AlarmsStatus, BackupsStatus, ClustersStatus, ControllerStatus, JobsStatus } from "../types";
import { listHref } from "../urlstate";

function Tile({ c, clusters, nodes, updated }: {
  c: ControllerStatus; clusters?: number; nodes?: number; updated?: string;
}): JSX.Element {
  const web = safeHttpUrl(c.frontend_url);
  return (
    <li class={`card tile ${c.status === "ok" ? "" : "failed"}`} data-xid={c.xid}>
      <div class="tile-head">
        <h3 class="tile-name">{c.controller_name || c.url}</h3>
        <Badge state={c.status} />
      </div>
      <dl>
        <dt>URL</dt><dd class="url">{c.url}</dd>
        <dt>Version</dt><dd>{c.version || "–"}</dd>
        <dt>Clusters</dt><dd><Link href={listHref("/clusters", { xid: c.xid })}><Num value={clusters ?? 0} /></Link></dd>
        <dt>Hosts</dt><dd><Link href={listHref("/hosts", { xid: c.xid })}><Num value={nodes ?? 0} /></Link></dd>
        <dt>Data from</dt><dd><Time value={updated} /></dd>
        <dt>Last seen</dt><dd><Time value={c.last_seen} /></dd>
      </dl>
      {c.status_message && <p class={c.status === "ok" ? "muted small" : "tile-error small"}>{c.status_message}</p>}
      {web && <a class="small" href={web} target="_blank" rel="noopener noreferrer">Open its web UI ↗</a>}
    </li>
  );
}

export function Overview(): JSX.Element {
  const list = useValue(controllersValue);
  const clusters = useApi<ClustersStatus>("/proxy/clusters/status");
  const alarms = useApi<AlarmsStatus>("/proxy/alarms/status");
  const jobs = useApi<JobsStatus>("/proxy/jobs/status");
  const backups = useApi<BackupsStatus>("/proxy/backups/status");
  // One row is enough: the reply's last_updated gives each controller's data time.
  const fresh = useApi<{ last_updated?: Record<string, string> | null }>("/proxy/clusters/list", { page: 1, perPage: 1 });
  const updated = fresh.data?.last_updated ?? {};
  const cs = clusters.data;
  const bs = backups.data;
  const missing = bs?.missing_schedules ?? 0;

  return (
    <>
      <h2>Overview</h2>
      <section aria-labelledby="controllers-title">
        <h3 id="controllers-title" class="section-title">Controllers <Link class="small" href="/controllers">manage</Link></h3>
        {list === null ? <Loading what="controllers" /> : list.length === 0 ? (
          <p class="empty">No controllers yet. <Link href="/controllers">Add one</Link>.</p>
        ) : (
          <ul class="tiles">
            {list.map((c) => <Tile key={c.xid} c={c} clusters={cs?.clusters_count?.[c.url]} nodes={cs?.nodes_count?.[c.url]} updated={updated[c.url]} />)}
          </ul>
        )}
      </section>
      {[clusters, alarms, jobs, backups].map((r, n) => <ErrorBox key={n} error={r.error} />)}
      {cs === null && clusters.loading ? <Loading what="the overview" /> : (
        <div class="charts">
          <BarChart id="cluster_states" title="Clusters by state"
            bars={barsOf(cs?.cluster_states, (k) => listHref("/clusters", { state: k }))} />
          <BarChart id="node_states" title="Hosts by state"
            bars={barsOf(cs?.node_states, (k) => listHref("/hosts", { hoststatus: k }))} />
          <BarChart id="alarms_count" title="Alarms by severity"
            bars={barsOf(alarms.data?.alarms_count, (k) => listHref("/alarms", { severity_name: k }))} />
          <BarChart id="job_count" title="Jobs by status (jobs window)"
            bars={barsOf(jobs.data?.job_count, (k) => listHref("/jobs", { status: k }))} />
          <BarChart id="backups_count" title="Backups (backups window)"
            bars={barsOf(bs?.backups_count, (k) => listHref("/backups", { status: k }))} />
          <section class="card chart" aria-labelledby="missing-title" data-chart="missing_schedules">
            <h3 id="missing-title">Backup schedules</h3>
            <p class="big-number" data-key="missing_schedules">
              <Link href="/missing-schedules"><Num value={missing} /></Link>
            </p>
            <p>clusters without a backup schedule</p>
            <p class="muted" data-key="schedules_count">
              <Link href="/schedules"><Num value={bs?.schedules_count ?? 0} /> schedules</Link> in all
            </p>
          </section>
        </div>
      )}
    </>
  );
}
