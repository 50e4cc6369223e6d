// Controllers (admin): add with a test first, edit (blank password keeps the stored one),
// remove with confirmation. Passwords are never shown: the API never returns them.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, writeErrorMessage } from "../api";
import { Badge, Loading, Time } from "../components";
import { controllers, refreshNow, useValue } from "../state";
import type { ControllerStatus } from "../types";

type Login = "password" | "keyfile" | "ldap";

interface Draft {
  xid: string;
  url: string;
  name: string;
  frontend_url: string;
  login: Login;
  username: string;
  password: string;
  keyfile: string;
  ca_file: string;
}

const EMPTY: Draft = { xid: "", url: "", name: "", frontend_url: "", login: "password", username: "", password: "", keyfile: "", ca_file: "" };

function body(d: Draft): Record<string, unknown> {
  const c: Record<string, unknown> = { url: d.url.trim(), name: d.name.trim(), frontend_url: d.frontend_url.trim() };
  if (d.xid) c.xid = d.xid;
  if (d.ca_file.trim()) c.ca_file = d.ca_file.trim();
  if (d.login === "ldap") c.useldap = true;
  else {
    c.username = d.username.trim();
    if (d.login === "password" && d.password) c.password = d.password;
    if (d.login === "keyfile" && d.keyfile.trim()) c.keyfile = d.keyfile.trim();
  }
  return { controller: c };
}

const LOGIN_WORDS: Record<string, string> = { password: "password", keyfile: "key file", ldap: "LDAP", cmon: "cmon users" };

function LoginBadge({ c }: { c: ControllerStatus }): JSX.Element {
  const kind = c.login ?? (c.ldap ? "ldap" : "password");
  return <span class={kind === "password" ? "" : "badge neutral"}>{LOGIN_WORDS[kind] ?? kind}</span>;
}

function TestResult({ result }: { result: ControllerStatus | null }): JSX.Element | null {
  if (!result) return null;
  return (
    <div class={`test-result ${result.status === "ok" ? "ok" : "failed"}`} role="status" data-test-result={result.status}>
      Test: <Badge state={result.status} />{" "}
      {result.status === "ok" ? `reached ${result.version ? `cmon ${result.version}` : "the controller"}` : result.status_message}
    </div>
  );
}

function Field({ id, label, children, hint }: { id: string; label: string; children: JSX.Element; hint?: string }): JSX.Element {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint && <small id={`${id}-hint`} class="muted">{hint}</small>}
    </div>
  );
}

function ControllerForm({ initial, onDone }: { initial: Draft; onDone: () => void }): JSX.Element {
  const [d, setD] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>("");
  const [result, setResult] = useState<ControllerStatus | null>(null);
  const editing = Boolean(initial.xid);
  const set = (k: keyof Draft) => (e: Event): void => setD({ ...d, [k]: (e.target as HTMLInputElement).value });

  const run = async (what: "test" | "save"): Promise<void> => {
    setBusy(true);
    setError("");
    try {
      const path = what === "test" ? "/proxy/controllers/test" : editing ? "/proxy/controllers/update" : "/proxy/controllers/add";
      const reply = await api.call<{ controller: ControllerStatus | null }>(path, body(d));
      setResult(reply.data.controller);
      if (what === "save") {
        refreshNow();
        onDone();
      }
    } catch (e) {
      setError(writeErrorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card form" aria-label={editing ? "Edit controller" : "Add a controller"} onSubmit={(e) => { e.preventDefault(); void run("save"); }}>
      <h3>{editing ? `Edit ${initial.name || initial.url}` : "Add a controller"}</h3>
      <Field id="c-url" label="Controller address (host:port of cmon's RPC v2)">
        <input id="c-url" required value={d.url} onInput={set("url")} placeholder="10.0.0.5:9501" autoComplete="off" />
      </Field>
      <Field id="c-name" label="Name">
        <input id="c-name" value={d.name} onInput={set("name")} autoComplete="off" />
      </Field>
      <fieldset>
        <legend>Log in to the controller with</legend>
        {(["password", "keyfile", "ldap"] as Login[]).map((l) => (
          <label key={l} class="inline">
            <input type="radio" name="login" value={l} checked={d.login === l} onChange={() => setD({ ...d, login: l })} />
            {l === "password" ? "a password" : l === "keyfile" ? "a key file (key-based)" : "the user's own LDAP login"}
          </label>
        ))}
      </fieldset>
      {d.login !== "ldap" && (
        <Field id="c-user" label="Username" hint={editing ? "Enter the controller username again (the API does not return it)." : undefined}>
          <input id="c-user" value={d.username} onInput={set("username")} autoComplete="off" required />
        </Field>
      )}
      {d.login === "password" && (
        <Field id="c-pass" label="Password" hint={editing ? "Leave blank to keep the stored password (same username)." : undefined}>
          <input id="c-pass" type="password" value={d.password} onInput={set("password")} autoComplete="new-password" required={!editing} />
        </Field>
      )}
      {d.login === "keyfile" && (
        <Field id="c-key" label="Key file on the ccmgr nodes" hint={editing ? "Leave blank to keep the stored key file (same username)." : undefined}>
          <input id="c-key" value={d.keyfile} onInput={set("keyfile")} autoComplete="off" required={!editing} />
        </Field>
      )}
      <Field id="c-ca" label="CA file (optional)">
        <input id="c-ca" value={d.ca_file} onInput={set("ca_file")} autoComplete="off" />
      </Field>
      <Field id="c-web" label="Its web UI URL (optional)">
        <input id="c-web" value={d.frontend_url} onInput={set("frontend_url")} autoComplete="off" placeholder="https://cc.example.com/" />
      </Field>
      <TestResult result={result} />
      {error && <div class="error" role="alert">{error}</div>}
      <div class="actions">
        <button type="button" class="secondary" disabled={busy} onClick={() => void run("test")}>Test</button>
        <button type="submit" disabled={busy}>{editing ? "Save changes" : "Add controller"}</button>
        <button type="button" class="secondary" disabled={busy} onClick={onDone}>Cancel</button>
      </div>
    </form>
  );
}

export function Controllers(): JSX.Element {
  const list = useValue(controllers);
  const [editing, setEditing] = useState<Draft | null>(null);
  const [confirming, setConfirming] = useState<ControllerStatus | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");

  const remove = async (c: ControllerStatus): Promise<void> => {
    setError("");
    try {
      await api.call("/proxy/controllers/remove", { xid: c.xid });
      setNotice(`Removed ${c.controller_name || c.url}.`);
      setConfirming(null);
      refreshNow();
    } catch (e) {
      setError(writeErrorMessage(e));
    }
  };

  return (
    <>
      <h2>Controllers</h2>
      {notice && <p class="notice" role="status">{notice}</p>}
      {error && <div class="error" role="alert">{error}</div>}
      {editing ? (
        <ControllerForm key={editing.xid || "new"} initial={editing} onDone={() => { setEditing(null); setNotice(""); }} />
      ) : (
        <p><button type="button" onClick={() => { setNotice(""); setEditing({ ...EMPTY }); }}>Add a controller</button></p>
      )}
      {confirming && (
        <div class="card confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text">
          <h3 id="confirm-title">Remove {confirming.controller_name || confirming.url}?</h3>
          <p id="confirm-text">ccmgr stops showing its clusters. The controller itself is not changed.</p>
          <div class="actions">
            <button type="button" class="danger" onClick={() => void remove(confirming)}>Remove</button>
            <button type="button" class="secondary" onClick={() => setConfirming(null)}>Cancel</button>
          </div>
        </div>
      )}
      {list === null ? <Loading what="controllers" /> : list.length === 0 ? <p class="empty">No controllers configured.</p> : (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Controllers</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Address</th><th scope="col">Login</th><th scope="col">Status</th><th scope="col">Version</th><th scope="col">Last seen</th><th scope="col">Message</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.xid} data-xid={c.xid}>
                  <td>{c.controller_name}</td>
                  <td class="url">{c.url}</td>
                  <td><LoginBadge c={c} /></td>
                  <td><Badge state={c.status} /></td>
                  <td>{c.version || "–"}</td>
                  <td><Time value={c.last_seen} /></td>
                  <td class="small">{c.status_message}</td>
                  <td class="row-actions">
                    <button type="button" class="secondary" aria-label={`Edit ${c.controller_name || c.url}`}
                      onClick={() => setEditing({ ...EMPTY, xid: c.xid, url: c.url, name: c.controller_name, frontend_url: c.frontend_url ?? "", login: c.ldap ? "ldap" : c.login === "keyfile" ? "keyfile" : "password" })}>Edit</button>
                    <button type="button" class="danger" aria-label={`Remove ${c.controller_name || c.url}`} onClick={() => setConfirming(c)}>Remove</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
