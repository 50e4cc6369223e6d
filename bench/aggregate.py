"""Unified-view bench: 50 controllers x 40 clusters x 5 hosts, 200 ms latency each.

    .venv/bin/python bench/aggregate.py [--controllers 50] [--clusters 40] [--hosts 5]
        [--restart] [--fetch-processes N]

Starts cmonsim in its own process and a real ccmgr daemon on loopback, then measures
(figures go to docs/benchmarks.md, "Unified view"; nothing here is asserted):

* cold /proxy/clusters/status right after start (the worker logs in to every controller
  in the background when it starts, as cmon-proxy logs in at start, and then fetches the
  cluster lists; the request joins whatever is under way) and with established
  controller sessions and an empty cache (force_update), each divided by the latency;
* warm requests/s of /proxy/clusters/list (perPage 50, two filters, ordered) vs /health,
  loaded by wrk (a C load generator, tools/host-packages.txt) so that the figure is the
  daemon's and not the Python client's; without wrk, by Python threads (then the client
  shares the 2 CPUs and the GIL, and the ratio says as much about it as about ccmgr);
* the time per request of /health sent one after another on one kept-alive connection
  (Python's http.client: what a thread that waits for each reply sees);
* peak RSS (VmHWM) of the gunicorn worker holding the estate;
* CPU seconds of the worker, its fetch processes and the simulator for the first request
  (since the daemon's start) and per forced refresh: all share the machine's cores;
* with ``--restart``: the first clusters/status after an orderly restart on the same
  basedir (served from the start-up snapshot while the controllers are fetched again).

All traffic goes to 127.0.0.1; every loop is bounded in count and time; everything started
is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from benchkit import Bench, cpu_seconds, daemon_over_estate, estate_of, estate_options  # noqa: E402
from daemonkit import Daemon  # noqa: E402
from testkit import children, fetch_processes_of  # noqa: E402

LIST_BODY = {"page": 1, "perPage": 50, "order": "cluster_id desc", "filters": [
    {"key": "state", "values": ["STARTED", "DEGRADED", "FAILURE"]},
    {"key": "cluster_type", "values": ["GALERA", "REPLICATION", "POSTGRESQL_SINGLE",
                                       "MONGODB"]}]}


def worker_pid(arbiter: int) -> int:
    return children(arbiter)[0]


def vm(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_used(bench: Bench, worker: int) -> list[float]:
    """CPU seconds since the daemon's start: worker, fetch processes, simulator."""
    return [cpu_seconds(worker), sum(cpu_seconds(p) for p in fetch_processes_of(worker)),
            bench.sim_cpu() - bench.sim_cpu_at_start]


def cpu_text(used: list[float]) -> str:
    worker, helpers, sim = used
    return (f"CPU s: worker {worker:.2f}" + (f", fetch processes {helpers:.2f}" if helpers
                                             else "") + f", simulator {sim:.2f}")


def sequential_us(daemon: Daemon, count: int = 2000) -> float:
    """Microseconds per /health request, each sent once the previous reply is read, on one
    kept-alive TLS connection (after 200 to warm it)."""
    context = ssl.create_default_context(cafile=daemon.ca)
    context.check_hostname = False  # the bench's certificate names localhost, not the IP
    conn = http.client.HTTPSConnection("127.0.0.1", daemon.port, context=context, timeout=30)
    try:
        for n in range(200 + count):
            if n == 200:
                started = time.perf_counter()
            conn.request("GET", "/health")
            reply = conn.getresponse()
            reply.read()
            if reply.status != 200:
                raise RuntimeError(f"/health answered {reply.status}")
        return (time.perf_counter() - started) / count * 1e6
    finally:
        conn.close()


def timed_post(session: requests.Session, url: str, body: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    reply = session.post(url, json=body, timeout=120)
    elapsed = time.perf_counter() - started
    reply.raise_for_status()
    return elapsed, reply.json()


def throughput(make_session, url: str, body: dict | None, threads: int, per_thread: int,
               budget: float, unique: bool = False) -> float:
    """Requests/s; ``unique`` adds a filter on an unknown key (filters nothing) with a
    fresh value per request, so no reply can come from ccmgr's reply memo."""
    done = [0] * threads
    deadline = time.monotonic() + budget

    def run(k: int) -> None:
        s = make_session()
        for n in range(per_thread):
            if time.monotonic() > deadline:
                break
            payload = body
            if unique and body is not None:
                payload = {**body, "filters": [*body["filters"],
                                               {"key": "bench_nonce", "value": f"{k}-{n}"}]}
            r = s.post(url, json=payload, timeout=30) if body is not None else \
                s.get(url, timeout=30)
            r.raise_for_status()
            done[k] += 1

    workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=budget + 60)
    return sum(done) / (time.perf_counter() - started)


def wrk_rate(url: str, cookie: str, body: dict | None, connections: int, seconds: int,
             scratch: Path, nonce: bool = False) -> float:
    """Requests/s measured by wrk (one thread); ``nonce`` makes every request distinct."""
    script = scratch / "request.lua"
    lines = ['wrk.headers["Content-Type"] = "application/json"']
    if body is not None:
        lines.append('wrk.method = "POST"')
        if nonce:  # an unknown-key filter with a fresh value: no reply memo can answer
            head = json.dumps({**body, "filters": [*body["filters"],
                                                   {"key": "bench_nonce", "value": "N"}]})
            before, after = head.split('"N"')
            lines += ["local n = 0", "request = function()", "  n = n + 1",
                      f"  return wrk.format(nil, nil, nil, [[{before}]] .. '\"' .. n .. "
                      f"'\"' .. [[{after}]])", "end"]
        else:
            lines.append(f"wrk.body = [[{json.dumps(body)}]]")
    script.write_text("\n".join(lines) + "\n")
    proc = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                           "-H", f"Cookie: sid={cookie}", "-s", str(script), url],
                          capture_output=True, text=True, timeout=seconds + 60, check=True)
    if re.search(r"Non-2xx or 3xx responses: \d+", proc.stdout):
        raise RuntimeError(f"wrk saw failed requests:\n{proc.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", proc.stdout)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{proc.stdout}")
    return float(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    estate_options(parser)
    parser.add_argument("--threads", type=int, default=4, help="Python client threads "
                        "(without wrk)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--restart", action="store_true", help="then restart the daemon and "
                        "time its first clusters/status (the start-up snapshot)")
    parser.add_argument("--fetch-processes", type=int, default=0, metavar="N",
                        help="the daemon's CCMGR_FETCH_PROCESSES (0: HTTP in the worker)")
    args = parser.parse_args(argv)
    if args.fetch_processes:  # the daemon (and its restart) inherit the environment
        os.environ["CCMGR_FETCH_PROCESSES"] = str(args.fetch_processes)
    lat = args.latency
    with daemon_over_estate(30, "ccmgr-bench-", **estate_of(args)) as bench:
        daemon, s = bench.daemon, bench.session
        pid = worker_pid(daemon.process.pid)
        cookie = s.cookies.get("sid")
        status_url = f"{daemon.url}/proxy/clusters/status"
        print(f"daemon up, worker pid {pid}, RSS {vm(pid, 'VmRSS'):.0f} MiB", flush=True)

        first, body = timed_post(s, status_url, {})
        from_start = time.perf_counter() - bench.started
        used = cpu_used(bench, pid)
        total = sum(body["clusters_count"].values())
        assert total == args.controllers * args.clusters, body.keys()
        warm_sessions, refresh_cpu = [], []
        for _ in range(5):
            before = cpu_used(bench, pid)
            elapsed, body = timed_post(s, status_url, {"force_update": True})
            warm_sessions.append(elapsed)
            refresh_cpu.append([b - a for a, b in zip(before, cpu_used(bench, pid),
                                                       strict=True)])
        cold = statistics.median(warm_sessions)
        print(f"cold, first request after start (start-up logins and fetches of the "
              f"{args.controllers} controllers under way in the background): "
              f"{first * 1000:.0f} ms = {first / lat:.2f} x latency; "
              f"{from_start:.2f} s from the daemon's start; {cpu_text(used)} since then")
        print(f"cold cache, established sessions (force_update), median of 5: "
              f"{cold * 1000:.0f} ms = {cold / lat:.2f} x latency "
              f"(min {min(warm_sessions) * 1000:.0f}, max {max(warm_sessions) * 1000:.0f}); "
              f"per refresh, median: "
              f"{cpu_text([statistics.median(c) for c in zip(*refresh_cpu, strict=True)])}")

        def make_session() -> requests.Session:
            ss = daemon.session()
            ss.cookies.set("sid", cookie)
            return ss

        list_url = f"{daemon.url}/proxy/clusters/list"
        health_url = f"{daemon.url}/health"
        _, page = timed_post(s, list_url, LIST_BODY)
        print(f"clusters/list: total {page['total']}, page of {len(page['clusters'])}")
        if shutil.which("wrk"):
            scratch = bench.scratch
            print(f"load: wrk, 1 thread, {args.connections} connections, 10 s each")
            wrk_rate(list_url, cookie, LIST_BODY, args.connections, 3, scratch)  # warm-up
            list_rps = wrk_rate(list_url, cookie, LIST_BODY, args.connections, 10, scratch)
            unique_rps = wrk_rate(list_url, cookie, LIST_BODY, args.connections, 10,
                                  scratch, nonce=True)
            health_rps = wrk_rate(health_url, cookie, None, args.connections, 10, scratch)
        else:
            print(f"load: {args.threads} Python threads (install wrk for daemon-only "
                  "figures)")
            throughput(make_session, list_url, LIST_BODY, args.threads, 20, 20)  # warm-up
            list_rps = throughput(make_session, list_url, LIST_BODY, args.threads, 250, 30)
            unique_rps = throughput(make_session, list_url, LIST_BODY, args.threads, 100,
                                    30, unique=True)
            health_rps = throughput(make_session, health_url, None, args.threads, 250, 30)
        print(f"warm clusters/list: {list_rps:.0f} req/s (same request: reply memo); "
              f"{unique_rps:.0f} req/s (every request distinct: view computed); "
              f"/health: {health_rps:.0f} req/s")
        print(f"ratio list/health: {list_rps / health_rps:.2f} (memo), "
              f"{unique_rps / health_rps:.2f} (computed)")
        print(f"/health one after another on one connection: {sequential_us(daemon):.0f} us "
              f"per request")
        print(f"worker peak RSS (VmHWM): {vm(pid, 'VmHWM'):.0f} MiB "
              f"(now {vm(pid, 'VmRSS'):.0f} MiB)")
        helpers = fetch_processes_of(pid)
        if helpers:
            peaks = [vm(h, "VmHWM") for h in helpers]
            now = ", ".join(f"{vm(h, 'VmRSS'):.0f}" for h in helpers)
            print(f"{len(helpers)} fetch processes, peak RSS (VmHWM): "
                  f"{', '.join(f'{p:.0f}' for p in peaks)} MiB (now {now} MiB); worker and "
                  f"fetch processes together: {vm(pid, 'VmHWM') + sum(peaks):.0f} MiB")
        if args.restart:
            bench.restart()
            first, body = timed_post(bench.session, f"{bench.daemon.url}/proxy/clusters/status",
                                     {})
            total = sum(body.get("clusters_count", {}).values())
            print(f"after a restart (SIGTERM, start on the same basedir), first "
                  f"clusters/status: {first * 1000:.0f} ms = {first / lat:.2f} x latency, "
                  f"{total} of {args.controllers * args.clusters} clusters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
