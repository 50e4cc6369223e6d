// Shared page state: the refresh clock (30 s, pausable), the controllers list, the last
// data age and answering node. Small observable values with a hook each.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type Reply } from "./api";
import type { ControllerStatus } from "./types";

export const REFRESH_SECONDS = 30;

class Value<T> {
  private listeners = new Set<(v: T) => void>();
  constructor(public value: T) {}
  set(v: T): void {
    this.value = v;
    for (const l of this.listeners) l(v);
  }
  subscribe(l: (v: T) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

export function useValue<T>(v: Value<T>): T {
  const [value, setValue] = useState(v.value);
  useEffect(() => {
    setValue(v.value);
    return v.subscribe(setValue);
  }, [v]);
  return value;
}

export const tick = new Value(0);
export const paused = new Value(false);
export const lastRefresh = new Value<Date | null>(null);
export const dataAge = new Value<number | null>(null);
export const servedBy = new Value("");
export const controllers = new Value<ControllerStatus[] | null>(null);

let timer: number | undefined;

export function refreshNow(): void {
  tick.set(tick.value + 1);
}

/** Starts the 30 s clock (once); a paused clock does not tick. */
export function startClock(): void {
  if (timer !== undefined) return;
  timer = window.setInterval(() => {
    if (!paused.value && document.visibilityState !== "hidden") refreshNow();
  }, REFRESH_SECONDS * 1000);
}

export function stopClock(): void {
  if (timer !== undefined) window.clearInterval(timer);
  timer = undefined;
}

function noteReply(reply: Reply<unknown>): void {
  if (reply.node) servedBy.set(reply.node);
  if (reply.dataAge !== null) dataAge.set(reply.dataAge);
  lastRefresh.set(new Date());
}

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/**
 * POSTs ``body`` to ``path`` now, whenever ``key`` changes and at every refresh tick. Old
 * data stay on screen while a refresh runs (never blocks); a late reply to an old request
 * is dropped. A new body clears the old answer unless ``keepPrevious`` (a list's next
 * page: the old rows stay, marked busy, until the new ones arrive).
 */
export function useApi<T>(path: string | null, body: unknown = {}, key = "",
  keepPrevious = false): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [local, setLocal] = useState(0);
  // The body the shown data (or error) answer: with keepPrevious, the first render after
  // the body changed (a page, Back) still shows the old rows, and must already say busy,
  // before the effect below has even sent the new request.
  const [answered, setAnswered] = useState<string | null>(null);
  const refresh = useValue(tick);
  const sequence = useRef(0);
  const lastKey = useRef<string | null>(null);
  const bodyText = JSON.stringify(body);

  useEffect(() => {
    if (path === null) return;
    const mine = ++sequence.current;
    const identity = keepPrevious ? `${path} ${key}` : `${path} ${bodyText} ${key}`;
    if (lastKey.current !== identity) {
      // A different question: do not show the old answer as if it were this one's.
      lastKey.current = identity;
      setData(null);
      setError(null);
    }
    setLoading(true);
    api.call<T>(path, JSON.parse(bodyText)).then((reply) => {
      if (mine !== sequence.current) return;
      noteReply(reply);
      setData(reply.data);
      setError(null);
      setAnswered(bodyText);
      setLoading(false);
    }, (e: unknown) => {
      if (mine !== sequence.current) return;
      setError(e instanceof ApiError ? e : new ApiError(0, "UnknownError", String(e)));
      setAnswered(bodyText);
      setLoading(false);
    });
  }, [path, bodyText, key, refresh, local, keepPrevious]);

  const outdated = data !== null && answered !== bodyText;
  return { data, error, loading: loading || outdated, reload: () => setLocal((n) => n + 1) };
}
