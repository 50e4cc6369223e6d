// This ccmgr node and its HA peers, from /proxy/ha/status (the same body as /health).
import type { JSX } from "preact";
import { Badge, ErrorBox, Loading, Num } from "../components";
import { formatDuration } from "../format";
import { servedBy, useApi, useValue } from "../state";
import type { Health } from "../types";

export function Appliance(): JSX.Element {
  const { data, error, loading } = useApi<Health>("/proxy/ha/status");
  const node = useValue(servedBy);
  return (
    <>
      <h2>Appliance</h2>
      <ErrorBox error={error} title="Could not read the HA status" />
      {data === null && loading && <Loading what="the HA status" />}
      {data && (
        <>
          <dl class="facts card" data-testid="appliance">
            <dt>Page served by</dt><dd data-key="node">{node || data.node}</dd>
            <dt>Status</dt><dd><Badge state={data.status} /></dd>
            <dt>Role</dt><dd data-key="role">{data.role}</dd>
            <dt>Epoch</dt><dd data-key="epoch"><Num value={data.epoch} /></dd>
            <dt>Generation</dt><dd data-key="generation"><Num value={data.generation} /></dd>
            <dt>Version</dt><dd>{data.version}</dd>
            {data.following && <><dt>Following</dt><dd>{data.following}</dd></>}
            {data.last_received_age_s !== undefined && <><dt>Last change received</dt><dd>{formatDuration(data.last_received_age_s)} ago</dd></>}
          </dl>
          {(data.warnings ?? []).concat(data.problems ?? []).map((w) => <p key={w} class="error" role="alert">{w}</p>)}
          <p class="muted">Changes made on a secondary are forwarded to the primary; when the primary cannot be reached they are refused with “primary unreachable” (HTTP 503).</p>
          {data.peers && (
            <>
              <h3>Peers</h3>
              {data.peers.length === 0 ? <p class="empty">No peers configured.</p> : (
                <div class="table-wrap">
                  <table>
                    <caption class="visually-hidden">Peers</caption>
                    <thead><tr><th scope="col">Name</th><th scope="col">Address</th><th scope="col">Sync</th><th scope="col">Lag (generations)</th><th scope="col">Last sync</th><th scope="col">Error</th></tr></thead>
                    <tbody>
                      {data.peers.map((p) => (
                        <tr key={p.name}>
                          <td>{p.name}</td><td>{p.address}</td>
                          <td><Badge state={p.in_sync ? "ok" : "behind"} /></td>
                          <td><Num value={p.lag_generations} /></td>
                          <td>{p.last_sync_age_s === null ? "never" : `${formatDuration(p.last_sync_age_s)} ago`}</td>
                          <td class="small">{p.error}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </>
          )}
        </>
      )}
    </>
  );
}
