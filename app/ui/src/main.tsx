// The ccmgr dashboard: login, then the shell (navigation, user menu, refresh, failed
// controllers banner) around the page the URL names.
import "./styles.css";
import { render, type JSX } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, onSessionExpired } from "./api";
import { Link } from "./components";
import { formatDuration, formatNumber } from "./format";
import { LISTS } from "./lists";
import { Appliance } from "./pages/Appliance";
import { ClusterPage } from "./pages/Cluster";
import { Controllers } from "./pages/Controllers";
import { ListPage } from "./pages/ListPage";
import { Login } from "./pages/Login";
import { Overview } from "./pages/Overview";
import { Profile } from "./pages/Profile";
import { matchPath, usePlace, type Place } from "./router";
import {
  controllers, dataAge, lastRefresh, paused, REFRESH_SECONDS, refreshNow, servedBy, startClock, stopClock, useApi, useValue,
} from "./state";
import type { ControllerStatus, User } from "./types";

const NAV: [string, string][] = [
  ["/", "Overview"], ["/clusters", "Clusters"], ["/hosts", "Hosts"], ["/alarms", "Alarms"], ["/jobs", "Jobs"],
  ["/backups", "Backups"], ["/schedules", "Schedules"], ["/logs", "Logs"], ["/audit", "Audit"],
  ["/controllers", "Controllers"], ["/appliance", "Appliance"],
];

function FailedBanner({ list }: { list: ControllerStatus[] | null }): JSX.Element | null {
  if (!list) return null;
  const failed = list.filter((c) => c.status !== "ok");
  if (failed.length === 0) return null;
  const SHOWN = 5; // the rest are one click away, on the controllers page
  const names = failed.slice(0, SHOWN).map((c) => `${c.controller_name || c.url}${c.status_message ? ` (${c.status_message})` : ""}`);
  if (failed.length > SHOWN) names.push(`and ${formatNumber(failed.length - SHOWN)} more`);
  return (
    <div class="banner" role="alert" data-testid="failed-banner">
      <strong>{formatNumber(failed.length)} of {formatNumber(list.length)} controllers failed:</strong>{" "}
      {names.join("; ")}. Their data may be missing or old. <Link href="/controllers">Controllers</Link>
    </div>
  );
}

function RefreshControl(): JSX.Element {
  const isPaused = useValue(paused);
  const age = useValue(dataAge);
  const last = useValue(lastRefresh);
  const node = useValue(servedBy);
  return (
    <div class="refresh" aria-label="Refresh">
      <span class="muted small" title={last ? `last refreshed ${last.toLocaleTimeString()}` : ""}>
        {[age !== null ? `data age ${formatDuration(age)}` : "", node ? `node ${node}` : ""].filter(Boolean).join(" · ")}
      </span>
      <button type="button" class="secondary small" onClick={refreshNow}>Refresh</button>
      <button type="button" class="secondary small" aria-pressed={isPaused ? "true" : "false"} onClick={() => paused.set(!isPaused)}>
        {isPaused ? "Resume auto-refresh" : `Pause auto-refresh (${REFRESH_SECONDS} s)`}
      </button>
    </div>
  );
}

function UserMenu({ user, onLogout }: { user: User; onLogout: () => void }): JSX.Element {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  // A layout effect is in place before the next key press is handled (useEffect runs
  // after paint, so an Escape typed at once could come before its listener).
  useLayoutEffect(() => {
    if (!open) return undefined;
    const close = (e: KeyboardEvent): void => {
      if (e.key !== "Escape") return;
      setOpen(false);
      button.current?.focus();
    };
    window.addEventListener("keydown", close);
    return () => window.removeEventListener("keydown", close);
  }, [open]);
  return (
    <div class="user-menu">
      <button ref={button} type="button" class="secondary" aria-haspopup="true" aria-expanded={open ? "true" : "false"} aria-controls="user-menu-items"
        onClick={() => setOpen(!open)}>
        {user.username} ▾
      </button>
      {open && (
        <ul id="user-menu-items" class="menu card" onClick={() => setOpen(false)}>
          <li><Link href="/profile">Profile</Link></li>
          <li><Link href="/profile#password-title">Change password</Link></li>
          <li><button type="button" class="linklike" onClick={onLogout}>Log out</button></li>
        </ul>
      )}
    </div>
  );
}

function Page({ place, user, onUser }: { place: Place; user: User; onUser: (u: User) => void }): JSX.Element {
  if (place.path === "/") return <Overview />;
  const list = LISTS.find((l) => l.path === place.path);
  if (list) return <ListPage key={list.path} def={list} place={place} />;
  const cluster = matchPath("/clusters/:xid/:id", place.path);
  if (cluster) return <ClusterPage xid={cluster.xid} id={cluster.id} />;
  if (place.path === "/controllers") return <Controllers />;
  if (place.path === "/appliance") return <Appliance />;
  if (place.path === "/profile") return <Profile user={user} onUser={onUser} />;
  return <><h2>Not found</h2><p>There is no page at this address. <Link href="/">Go to the overview</Link>.</p></>;
}

function Shell({ user, onUser, onLogout }: { user: User; onUser: (u: User) => void; onLogout: () => void }): JSX.Element {
  const place = usePlace();
  const status = useApi<{ controllers: ControllerStatus[] }>("/proxy/controllers/status");
  const list = useValue(controllers);
  useEffect(() => {
    if (status.data) {
      const sorted = [...status.data.controllers].sort((a, b) =>
        (a.controller_name || a.url).localeCompare(b.controller_name || b.url));
      controllers.set(sorted);
    }
  }, [status.data]);
  useEffect(() => {
    startClock();
    return stopClock;
  }, []);
  useEffect(() => {
    const title = NAV.find(([href]) => href === place.path)?.[1] ?? "";
    document.title = title ? `${title} · ccmgr` : "ccmgr";
  }, [place.path]);
  const section = place.path === "/" ? "/" : `/${place.path.split("/")[1]}`;
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <div class="brand"><Link href="/">ccmgr</Link></div>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}><Link href={href} aria-current={section === href ? "page" : undefined}>{label}</Link></li>
            ))}
          </ul>
        </nav>
        <UserMenu user={user} onLogout={onLogout} />
      </header>
      <div class="subbar"><RefreshControl /></div>
      <FailedBanner list={list} />
      {status.error && !status.error.unauthenticated && (
        <div class="error" role="alert">Could not read the controllers' status: {status.error.message}</div>
      )}
      <main id="main" tabIndex={-1}>
        <Page place={place} user={user} onUser={onUser} />
      </main>
    </>
  );
}

function App(): JSX.Element {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [reason, setReason] = useState("");
  const [checkError, setCheckError] = useState("");

  useEffect(() => {
    api.call<{ user: User }>("/proxy/auth/check").then((r) => setUser(r.data.user), (e: unknown) => {
      if (e instanceof ApiError && e.status === 401) setUser(null);
      else setCheckError(e instanceof Error ? e.message : String(e));
    });
    return onSessionExpired(() => {
      setUser((was) => {
        if (was) setReason("Your session has expired or was ended elsewhere. Please log in again.");
        return null;
      });
    });
  }, []);

  const login = (u: User): void => {
    setReason("");
    controllers.set(null);
    setUser(u);
  };
  const logout = (): void => {
    api.call("/proxy/auth/logout").finally(() => {
      controllers.set(null);
      setReason("You are logged out.");
      setUser(null);
    });
  };

  if (checkError) return <main id="main" class="login"><div class="error" role="alert">ccmgr cannot be reached: {checkError}</div></main>;
  if (user === undefined) return <main id="main" class="login"><p class="loading" role="status">Loading…</p></main>;
  if (user === null) return <Login reason={reason} onLogin={login} />;
  return <Shell user={user} onUser={setUser} onLogout={logout} />;
}

const root = document.getElementById("app");
if (root) render(<App />, root);
