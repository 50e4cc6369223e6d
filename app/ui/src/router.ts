// A tiny router over the History API: the URL is the state, the back button works.
import { useEffect, useState } from "preact/hooks";

export interface Place {
  path: string;
  search: string;
}

const listeners = new Set<() => void>();

function current(): Place {
  return { path: window.location.pathname, search: window.location.search };
}

function notify(): void {
  for (const listener of listeners) listener();
}

/** Go to ``href`` (same origin) with a new history entry, or replacing the current one. */
export function navigate(href: string, replace = false): void {
  const target = new URL(href, window.location.href);
  if (target.origin !== window.location.origin) return;
  const next = target.pathname + target.search;
  if (next !== window.location.pathname + window.location.search) {
    if (replace) window.history.replaceState(null, "", next + target.hash);
    else window.history.pushState(null, "", next + target.hash);
    notify();
  }
  if (target.hash) {
    // After the page rendered: bring the named part into view, focus its first field.
    window.requestAnimationFrame(() => {
      const anchor = document.getElementById(decodeURIComponent(target.hash.slice(1)));
      const form = anchor?.closest("form");
      anchor?.scrollIntoView();
      form?.querySelector<HTMLElement>("input:not([disabled])")?.focus();
    });
  }
}

export function usePlace(): Place {
  const [place, setPlace] = useState(current);
  useEffect(() => {
    const update = (): void => setPlace(current());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return place;
}

/** ``/clusters/:xid/:id`` against ``/clusters/abc/5`` → {xid: "abc", id: "5"}; no match → null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const have = path.split("/").filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    if (want[i].startsWith(":")) {
      try {
        params[want[i].slice(1)] = decodeURIComponent(have[i]);
      } catch {
        return null;
      }
    } else if (want[i] !== have[i]) {
      return null;
    }
  }
  return params;
}
