"""Metrics bench (issue 14): /metrics scrape time and size, and what instrumentation costs.

    .venv/bin/python bench/metrics.py [--controllers 50 500] [--clusters 4] [--seconds 5]

In-process: a real app (create_app) over a cmonsim estate on loopback, its cache filled
with every data kind, requests made through Falcon's test client so the figures are the
app's CPU, not HTTP or TLS. Measures (figures go to docs/benchmarks.md, "Observability";
nothing is asserted):

* a scrape of /metrics with N controllers: the first one (every controller's lines are
  formatted, as after a refresh of all of them), then median and p95 time, size in bytes
  and series;
* warm /proxy/clusters/list requests/s (one thread, the reply memo bypassed with a fresh
  filter value per request, so the list is rendered each time) with the instrumentation
  (request-id + access record + request metrics middleware) and with those middlewares
  replaced by no-ops, alternated three times, best of each, per CPU second of the
  process: the relative cost.

Every loop is bounded in count and time; the estate and the app are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from ccmgr import accesslog, logsetup  # noqa: E402
from ccmgr.app import create_app  # noqa: E402
from ccmgr.bootstrap import bootstrap  # noqa: E402
from ccmgr.collectors.service import Collectors  # noqa: E402
from ccmgr.metrics import service as metrics_service  # noqa: E402
from ccmgr.runtime import Services  # noqa: E402
from ccmgr.xid import new_xid  # noqa: E402
from cmonsim.testing import start_estate  # noqa: E402
from daemonkit import write_config  # noqa: E402
from falcon import testing  # noqa: E402

KINDS = ("/proxy/clusters/status", "/proxy/alarms/status", "/proxy/jobs/status",
         "/proxy/backups/status")
LIST_BODY = {"page": 1, "perPage": 50, "order": "cluster_id desc", "filters": []}


class _NoOp:
    def process_request(self, req, resp):
        pass

    def process_response(self, req, resp, resource, ok):
        pass


def build(estate, basedir: Path, instrumented: bool = True):
    basedir.mkdir(parents=True)
    write_config(basedir, {"timeout": 30, "cache_ttl": 3600, "instances": [
        {"xid": new_xid(), "url": c.url, "name": c.name, "username": c.username,
         "password": c.password} for c in estate]})
    services = Services.from_basedir(str(basedir))
    password = bootstrap(services)
    # Falcon binds the middleware methods when the app is made: no-ops patched in for
    # that moment make an app without the instrumentation; the classes are restored.
    classes = (accesslog.RequestContext, metrics_service.RequestMetrics)
    saved = [(c, c.process_request, c.process_response) for c in classes]
    if not instrumented:
        for cls in classes:
            cls.process_request = _NoOp.process_request
            cls.process_response = _NoOp.process_response
    try:
        client = testing.TestClient(create_app(services, collectors=Collectors(ttl=3600)))
    finally:
        for cls, request, response in saved:
            cls.process_request, cls.process_response = request, response
    login = client.simulate_post("/proxy/auth/login", body=json.dumps(
        {"username": "admin", "password": password}))
    sid = login.cookies["sid"].value
    for path in KINDS:
        reply = client.simulate_post(path, body="{}", cookies={"sid": sid})
        assert reply.status_code == 200, reply.text
    return client, sid, services


def scrape_figures(client, services, rounds: int) -> dict:
    token = (Path(services.basedir) / "metrics.token").read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    times, size, series = [], 0, 0
    for _ in range(rounds):
        started = time.perf_counter()
        reply = client.simulate_get("/metrics", headers=headers)
        times.append(time.perf_counter() - started)
        assert reply.status_code == 200
        size = len(reply.content)
        series = sum(1 for line in reply.text.splitlines() if line and line[0] != "#")
    first = times[0]  # every controller's lines formatted: the cost after a full refresh
    times.sort()
    return {"first_ms": round(first * 1000, 1),
            "median_ms": round(statistics.median(times) * 1000, 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1] * 1000, 1),
            "bytes": size, "series": series}


def list_rate(client, sid: str, seconds: float) -> float:
    """Requests per CPU second of this process (time.process_time): the machine is shared,
    and wall-clock rates moved by ±20 % between identical runs."""
    done, deadline = 0, time.monotonic() + seconds
    started = time.process_time()
    while time.monotonic() < deadline and done < 100_000:
        body = {**LIST_BODY, "filters": [{"key": "bench_nonce", "value": str(done)}]}
        reply = client.simulate_post("/proxy/clusters/list", body=json.dumps(body),
                                     cookies={"sid": sid})
        assert reply.status_code == 200
        done += 1
    return done / (time.process_time() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--controllers", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--clusters", type=int, default=4)
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="ccmgr-bench-metrics-") as scratch:
        logsetup.configure(str(Path(scratch) / "ccmgr.log"), stderr=False)
        for n in args.controllers:
            with start_estate(controllers=n, clusters=args.clusters, hosts=args.hosts,
                              seed=7) as estate:
                base = Path(scratch) / f"n{n}"
                client, sid, services = build(estate, base / "on")
                figures = scrape_figures(client, services, args.rounds)
                bare, bare_sid, _ = build(estate, base / "off", instrumented=False)
                # Alternate, best of three each: the machine is shared, drift is large.
                on, off = [], []
                for _ in range(3):
                    on.append(list_rate(client, sid, args.seconds))
                    off.append(list_rate(bare, bare_sid, args.seconds))
                figures.update(list_rps_instrumented=round(max(on), 1),
                               list_rps_bare=round(max(off), 1),
                               cost_percent=round(100 * (1 - max(on) / max(off)), 1))
                out[n] = figures
                print(n, json.dumps(figures), flush=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
