// The API client against a real HTTP server on loopback (node:http), not a mock of fetch.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, ApiError, errorFromBody, loginErrorMessage, onSessionExpired, writeErrorMessage } from "../src/api";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
const routes: Record<string, Handler> = {
  "/proxy/clusters/status": (_req, body, res) => {
    res.writeHead(200, { "Content-Type": "application/json", "X-Ccmgr-Node": "ccm1", "X-Ccmgr-Data-Age": "12" });
    res.end(JSON.stringify({ echoed: JSON.parse(body) }));
  },
  "/proxy/alarms/list": (_req, _body, res) => {
    res.writeHead(401, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ request_status: "AuthRequired", error_string: "authentication is required" }));
  },
  "/proxy/auth/login": (_req, _body, res) => {
    res.writeHead(429, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ request_status: "AccessDenied", error_string: "Too many failed attempts, please wait" }));
  },
  "/proxy/controllers/add": (_req, _body, res) => {
    res.writeHead(503, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ type: "UnknownError", message: "the primary ccm1 is unreachable, so this write was not made" }));
  },
  "/proxy/jobs/list": (_req, _body, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<html>not json</html>");
  },
};

let server: Server;
let base = "";
const seen: { method?: string; type?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => { body += c.toString(); });
    req.on("end", () => {
      seen.push({ method: req.method, type: req.headers["content-type"], body });
      const handler = routes[req.url ?? ""];
      if (handler) handler(req, body, res);
      else { res.writeHead(404); res.end(); }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const client = (): Api => new Api((path, init) => fetch(base + path, init));

describe("Api.call", () => {
  it("POSTs JSON and reads the node and data age headers", async () => {
    const reply = await client().call<{ echoed: unknown }>("/proxy/clusters/status", { filters: [] });
    expect(reply).toEqual({ data: { echoed: { filters: [] } }, node: "ccm1", dataAge: 12 });
    const last = seen[seen.length - 1];
    expect(last.method).toBe("POST");
    expect(last.type).toBe("application/json");
  });
  it("sends {} when there is no body (cmon-proxy's aggregations want one)", async () => {
    await client().call("/proxy/clusters/status");
    expect(seen[seen.length - 1].body).toBe("{}");
  });
  it("tells listeners when the session is gone, with the server's message", async () => {
    let told = 0;
    const stop = onSessionExpired(() => { told += 1; });
    const error = await client().call("/proxy/alarms/list").catch((e: unknown) => e);
    stop();
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).unauthenticated).toBe(true);
    expect((error as ApiError).message).toBe("authentication is required");
    expect(told).toBe(1);
  });
  it("explains a login lockout and a refused write on a secondary", async () => {
    const locked = await client().call("/proxy/auth/login", {}).catch((e: unknown) => e);
    expect((locked as ApiError).status).toBe(429);
    expect(loginErrorMessage(locked)).toMatch(/^Too many failed attempts, please wait: too many failed logins/);
    const refused = await client().call("/proxy/controllers/add", {}).catch((e: unknown) => e);
    expect(writeErrorMessage(refused)).toBe(
      "Primary unreachable (nothing was changed): the primary ccm1 is unreachable, so this write was not made");
    expect(writeErrorMessage(new ApiError(503, "UnknownError", "configuration cannot be loaded"))).toBe(
      "Service unavailable: configuration cannot be loaded");
  });
  it("refuses a reply that is not JSON, and an unreachable server", async () => {
    await expect(client().call("/proxy/jobs/list")).rejects.toThrow("the reply was not JSON");
    const down = new Api((path, init) => fetch("http://127.0.0.1:1" + path, init));
    await expect(down.call("/health")).rejects.toThrow(/cannot be reached/);
  });
});

describe("errorFromBody", () => {
  it("reads both cmon-proxy envelopes", () => {
    expect(errorFromBody(400, { type: "InvalidRequest", message: "bad" })).toMatchObject({ type: "InvalidRequest", message: "bad" });
    expect(errorFromBody(401, { request_status: "AccessDenied", error_string: "no" })).toMatchObject({ type: "AccessDenied", message: "no" });
    expect(errorFromBody(502, null, "Bad Gateway").message).toBe("HTTP 502 Bad Gateway");
  });
});
