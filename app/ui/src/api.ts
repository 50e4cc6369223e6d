// The client of ccmgr's public API: same origin, the sid cookie, JSON POST bodies.
// Errors carry the server's own message (both of cmon-proxy's envelopes are understood).

export class ApiError extends Error {
  readonly status: number;
  readonly type: string;

  constructor(status: number, type: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.type = type;
  }

  /** The session is gone (expired, revoked, or never there). */
  get unauthenticated(): boolean {
    return this.status === 401 && this.type === "AuthRequired";
  }
}

export interface Reply<T> {
  data: T;
  /** X-Ccmgr-Node: the node that answered. */
  node: string;
  /** X-Ccmgr-Data-Age in seconds, when the reply was built from cached controller data. */
  dataAge: number | null;
}

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** What a reply's body says went wrong, for people. */
export function errorFromBody(status: number, body: unknown, statusText = ""): ApiError {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const message = typeof b.message === "string" ? b.message
      : typeof b.error_string === "string" ? b.error_string : "";
    const type = typeof b.type === "string" ? b.type
      : typeof b.request_status === "string" ? b.request_status : "";
    if (message || type) return new ApiError(status, type || "UnknownError", message || type);
  }
  const word = status === 0 ? "ccmgr cannot be reached" : `HTTP ${status} ${statusText}`.trim();
  return new ApiError(status, "UnknownError", word);
}

/** Listeners told when any call finds the session gone (the app shows the login page). */
const expiredListeners = new Set<() => void>();

export function onSessionExpired(listener: () => void): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

export class Api {
  private readonly fetcher: Fetch;

  constructor(fetcher?: Fetch) {
    this.fetcher = fetcher ?? ((input, init) => fetch(input, init));
  }

  /** POST ``body`` (``{}`` when none: cmon-proxy's aggregations want a body) to ``path``. */
  async call<T>(path: string, body: unknown = {}, method: "GET" | "POST" = "POST"): Promise<Reply<T>> {
    let response: Response;
    try {
      response = await this.fetcher(path, {
        method,
        credentials: "same-origin",
        headers: method === "POST" ? { "Content-Type": "application/json", Accept: "application/json" }
          : { Accept: "application/json" },
        body: method === "POST" ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new ApiError(0, "NetworkError", "ccmgr cannot be reached; retrying at the next refresh");
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      const error = errorFromBody(response.status, parsed, response.statusText);
      if (error.unauthenticated && !path.startsWith("/proxy/auth/")) {
        for (const listener of expiredListeners) listener();
      }
      throw error;
    }
    if (parsed === null && text) {
      throw new ApiError(response.status, "UnknownError", "the reply was not JSON");
    }
    const age = response.headers.get("X-Ccmgr-Data-Age");
    return {
      data: parsed as T,
      node: response.headers.get("X-Ccmgr-Node") ?? "",
      dataAge: age !== null && /^\d+$/.test(age) ? Number(age) : null,
    };
  }
}

export const api = new Api();

/** The message people see for a failed login. */
export function loginErrorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429) return `${error.message}: too many failed logins from this address. Wait a few minutes and try again.`;
    if (error.status === 401) return "Wrong username or password.";
    return error.message;
  }
  return String(error);
}

/** The message people see for a failed write (primary down on a secondary, etc.). */
export function writeErrorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 503) {
      // A secondary forwards writes; 503 naming the primary means it could not reach it.
      return /primary/i.test(error.message) ? `Primary unreachable (nothing was changed): ${error.message}`
        : `Service unavailable: ${error.message}`;
    }
    return error.message;
  }
  return String(error);
}
