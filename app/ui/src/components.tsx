// Small building blocks shared by the pages. Every value from a controller is rendered as
// text (Preact escapes it); links to controller web UIs must be http(s).
import type { AnchorHTMLAttributes, ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { ApiError } from "./api";
import { exactTime, formatNumber, humanState, parseTime, relativeTime } from "./format";
import { navigate } from "./router";
import { pageCount } from "./urlstate";

export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }): JSX.Element {
  const { href, children, ...rest } = props;
  const onClick = (e: MouseEvent): void => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={onClick} {...rest}>{children}</a>;
}

/** An outside link only when it is http(s): a controller's frontend_url is data too. */
export function safeHttpUrl(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Re-renders every 15 s so relative times stay true. */
function useNow(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const id = window.setInterval(() => setNow(new Date()), 15000);
    return () => window.clearInterval(id);
  }, []);
  return now;
}

export function Time({ value }: { value: string | Date | null | undefined }): JSX.Element {
  const now = useNow();
  const when = value instanceof Date ? value : parseTime(value ?? "");
  if (!when) return <span class="muted">never</span>;
  return <time dateTime={when.toISOString()} title={exactTime(when)}>{relativeTime(when, now)}</time>;
}

export function Num({ value }: { value: number | null | undefined }): JSX.Element {
  return <span class="num">{formatNumber(value)}</span>;
}

const GOOD = /^(ok|started|online|completed|finished|cmonhostonline|alarm_ok)$/i;
const BAD = /^(failed|failure|aborted|cmonhostoffline|cmonhostfailed|alarm_critical|critical|authentication-error|stopped)$/i;
const WARN = /^(degraded|warning|alarm_warning|running\d?|running_ext|defined|dequeued|cmonhostrecovery|cmonhostshutdown|unknown|recovering)$/i;

export function stateTone(state: string): string {
  if (GOOD.test(state)) return "good";
  if (BAD.test(state)) return "bad";
  if (WARN.test(state)) return "warn";
  return "neutral";
}

export function Badge({ state }: { state: string }): JSX.Element {
  return <span class={`badge ${stateTone(state)}`} title={state}>{humanState(state)}</span>;
}

export function ErrorBox({ error, title }: { error: ApiError | Error | null; title?: string }): JSX.Element | null {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <strong>{title ?? "The request failed"}:</strong> {error.message}
    </div>
  );
}

export function Loading({ what }: { what: string }): JSX.Element {
  return <p class="loading" role="status" aria-live="polite">Loading {what}…</p>;
}

export function Empty({ children }: { children: ComponentChildren }): JSX.Element {
  return <p class="empty">{children}</p>;
}

export function Pager({ page, perPage, total, onPage }: {
  page: number; perPage: number; total: number; onPage: (page: number) => void;
}): JSX.Element {
  const pages = pageCount(total, perPage);
  const first = total === 0 ? 0 : (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" onClick={() => onPage(page - 1)} disabled={page <= 1}>‹ Previous</button>
      <span aria-live="polite">
        {formatNumber(first)}–{formatNumber(last)} of {formatNumber(total)} · page {formatNumber(page)} of {formatNumber(pages)}
      </span>
      <button type="button" onClick={() => onPage(page + 1)} disabled={page >= pages}>Next ›</button>
    </nav>
  );
}
