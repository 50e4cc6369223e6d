import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, loginErrorMessage } from "../api";
import type { User } from "../types";

export function Login({ reason, onLogin }: { reason: string; onLogin: (u: User) => void }): JSX.Element {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const reply = await api.call<{ user: User }>("/proxy/auth/login", { username: username.trim(), password });
      onLogin(reply.data.user ?? { username });
    } catch (err) {
      setError(loginErrorMessage(err));
      setBusy(false);
    }
  };

  return (
    <main id="main" class="login">
      <form class="card form" aria-labelledby="login-title" onSubmit={(e) => void submit(e)}>
        <h1 id="login-title">ccmgr</h1>
        <p class="muted">One view over your ClusterControl controllers.</p>
        {reason && <p class="notice" role="status">{reason}</p>}
        <div class="field">
          <label for="l-user">Username</label>
          <input id="l-user" autoComplete="username" required value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="l-pass">Password</label>
          <input id="l-pass" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </div>
        {error && <div class="error" role="alert">{error}</div>}
        <div class="actions"><button type="submit" disabled={busy}>{busy ? "Logging in…" : "Log in"}</button></div>
      </form>
    </main>
  );
}
