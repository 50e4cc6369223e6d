// The user menu's pages: profile (email) and change password.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, writeErrorMessage } from "../api";
import type { User } from "../types";

export function Profile({ user, onUser }: { user: User; onUser: (u: User) => void }): JSX.Element {
  const [email, setEmail] = useState(user.email ?? "");
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");
  const [oldPassword, setOld] = useState("");
  const [newPassword, setNew] = useState("");
  const [again, setAgain] = useState("");
  const [pwMessage, setPwMessage] = useState("");
  const [pwError, setPwError] = useState("");
  const local = !user.ldap;

  const saveProfile = async (e: Event): Promise<void> => {
    e.preventDefault();
    setMessage("");
    setError("");
    try {
      const reply = await api.call<{ user: User }>("/proxy/auth/update", {
        user: { username: user.username, email: email.trim(), firstname: user.firstname ?? "", lastname: user.lastname ?? "" },
      });
      onUser(reply.data.user);
      setMessage("Profile saved.");
    } catch (err) {
      setError(writeErrorMessage(err));
    }
  };

  const changePassword = async (e: Event): Promise<void> => {
    e.preventDefault();
    setPwMessage("");
    setPwError("");
    if (newPassword !== again) {
      setPwError("The two new passwords differ.");
      return;
    }
    try {
      await api.call("/proxy/auth/setpassword", { old_password: oldPassword, new_password: newPassword });
      setOld("");
      setNew("");
      setAgain("");
      setPwMessage("Password changed. Your other sessions were logged out.");
    } catch (err) {
      setPwError(writeErrorMessage(err));
    }
  };

  return (
    <>
      <h2>Your profile</h2>
      <form class="card form" aria-labelledby="profile-title" onSubmit={(e) => void saveProfile(e)}>
        <h3 id="profile-title">Profile of {user.username}</h3>
        <div class="field">
          <label for="p-email">Email</label>
          <input id="p-email" type="email" value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} disabled={!local} />
        </div>
        {message && <p class="notice" role="status">{message}</p>}
        {error && <div class="error" role="alert">{error}</div>}
        <div class="actions"><button type="submit" disabled={!local}>Save profile</button></div>
      </form>
      <form class="card form" aria-labelledby="password-title" onSubmit={(e) => void changePassword(e)}>
        <h3 id="password-title">Change password</h3>
        {!local && <p class="muted">LDAP users change their password in the directory.</p>}
        <div class="field">
          <label for="pw-old">Current password</label>
          <input id="pw-old" type="password" autoComplete="current-password" required value={oldPassword} onInput={(e) => setOld((e.target as HTMLInputElement).value)} disabled={!local} />
        </div>
        <div class="field">
          <label for="pw-new">New password</label>
          <input id="pw-new" type="password" autoComplete="new-password" required value={newPassword} onInput={(e) => setNew((e.target as HTMLInputElement).value)} disabled={!local} />
        </div>
        <div class="field">
          <label for="pw-again">New password again</label>
          <input id="pw-again" type="password" autoComplete="new-password" required value={again} onInput={(e) => setAgain((e.target as HTMLInputElement).value)} disabled={!local} />
        </div>
        {pwMessage && <p class="notice" role="status">{pwMessage}</p>}
        {pwError && <div class="error" role="alert">{pwError}</div>}
        <div class="actions"><button type="submit" disabled={!local}>Change password</button></div>
      </form>
    </>
  );
}
