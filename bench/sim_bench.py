"""cmonsim benchmark: prints figures, asserts nothing.

    .venv/bin/python bench/sim_bench.py [--quick]

The simulator runs in a child process (its own interpreter and GIL) on
127.0.0.1; the client side here uses plain `requests` sessions, one per
controller and thread (cmon-sid cookies are per controller, and a cookie jar
does not tell ports apart).

1. getAllClusterInfo latency for a 40-cluster x 5-host controller (median of N).
2. Throughput across 50 controllers: fixed request count, concurrent threads, time cap.
3. ccmgr's benchmark shape: 50 controllers x 200 ms added latency, 50 requests fired at
   once on fresh connections (TLS handshake included). Wall time close to 200 ms
   means the simulator adds little on top of the injected latency.
"""

from __future__ import annotations

import argparse
import os
import ssl
import statistics
import sys
import threading
import time

import requests
import urllib3
from cmonsim.testing import SimEstate, admin_call, start_estate

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

GET_ALL = {"operation": "getAllClusterInfo", "with_hosts": True, "with_license_check": True,
           "with_tags": True}
TIMEOUT = (3.05, 30)


def client_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# Built once: with verify=False urllib3 would otherwise build a context per new
# connection and load the system CA store into it (~50 ms of client CPU each time
# here), which would swamp what this bench measures.
CLIENT_CTX = client_context()


class SharedContextAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = CLIENT_CTX
        return super().init_poolmanager(*args, **kwargs)


def new_session() -> requests.Session:
    s = requests.Session()
    s.verify = False
    s.trust_env = False
    s.mount("https://", SharedContextAdapter(pool_connections=1, pool_maxsize=4))
    return s


def login(s: requests.Session, ctl) -> str:
    r = s.post(ctl.rpc_url("auth"), json={"operation": "authenticateWithPassword",
                                          "user_name": ctl.username,
                                          "password": ctl.password}, timeout=TIMEOUT)
    r.raise_for_status()
    return r.cookies["cmon-sid"]


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (Linux /proc); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def single_latency(estate: SimEstate, n: int) -> None:
    ctl = estate[0]
    s = new_session()
    login(s, ctl)
    sizes, times = [], []
    for _ in range(n):
        t = time.perf_counter()
        r = s.post(ctl.rpc_url("clusters"), json=GET_ALL, timeout=TIMEOUT)
        body = r.json()
        times.append(time.perf_counter() - t)
        sizes.append(len(r.content))
        assert body["total"] == 40
    s.close()
    times.sort()
    print(f"[1] getAllClusterInfo 40 clusters x 5 hosts ({sizes[0] / 1024:.0f} KiB reply), "
          f"keep-alive, {n} sequential requests incl. client JSON decode:")
    print(f"    median {statistics.median(times) * 1000:.1f} ms, "
          f"p90 {times[int(len(times) * 0.9) - 1] * 1000:.1f} ms, "
          f"min {times[0] * 1000:.1f} ms")


def throughput(estate: SimEstate, pid: int | None, total: int, threads: int,
               cap: float) -> None:
    lock = threading.Lock()
    state = {"sent": 0, "done": 0, "errors": 0}
    deadline = time.monotonic() + cap
    ctls = list(estate)

    def worker(k: int) -> None:
        sessions: dict[int, requests.Session] = {}
        i = k
        try:
            while time.monotonic() < deadline:
                with lock:
                    if state["sent"] >= total:
                        return
                    state["sent"] += 1
                ctl = ctls[i % len(ctls)]
                i += threads
                s = sessions.get(ctl.index)
                if s is None:
                    s = sessions[ctl.index] = new_session()
                    login(s, ctl)
                r = s.post(ctl.rpc_url("clusters"), json=GET_ALL, timeout=TIMEOUT)
                _ = r.content  # transport only: client-side JSON decode is not the simulator
                with lock:
                    state["done" if r.status_code == 200 else "errors"] += 1
        finally:
            for s in sessions.values():
                s.close()

    cpu0 = cpu_seconds(pid) if pid else None
    admin_call(estate.admin_url, "DELETE", "/stats")
    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(cap + 30)
    elapsed = time.perf_counter() - t0
    cpu1 = cpu_seconds(pid) if pid else None
    lag = admin_call(estate.admin_url, "GET", "/stats")["loop_lag_max_ms"]
    rate = state["done"] / elapsed
    print(f"[2] throughput: {state['done']} getAllClusterInfo (40x5) over 50 controllers, "
          f"{threads} client threads: {elapsed:.2f} s -> {rate:.0f} req/s "
          f"({rate * 250 / 1024:.0f} MiB/s), errors {state['errors']}")
    if cpu0 is not None and cpu1 is not None:
        print(f"    simulator CPU {cpu1 - cpu0:.2f} s for {elapsed:.2f} s wall "
              f"({(cpu1 - cpu0) / max(state['done'], 1) * 1000:.2f} ms CPU per request; "
              f"includes logins and TLS handshakes); worst event-loop lag {lag:.0f} ms")


def burst(estate: SimEstate, pid: int | None, latency: float, op_body: dict, label: str,
          fresh: bool) -> float:
    """One request to every controller at the same instant.

    fresh: each on a brand-new TLS connection (handshake inside the timing);
    otherwise on a keep-alive connection opened beforehand (ccmgr's pooled sessions
    after their first round).
    """
    ctls = list(estate)
    sessions = {}
    for ctl in ctls:  # log in first, without latency
        s = new_session()
        sid = login(s, ctl)
        if fresh:
            s.close()
            s = new_session()
            s.cookies.set("cmon-sid", sid)
        sessions[ctl.index] = s
    estate.set_faults(latency=latency)
    barrier = threading.Barrier(len(ctls) + 1)
    ends: dict[int, float] = {}
    statuses: dict[int, int] = {}

    def fire(ctl) -> None:
        s = sessions[ctl.index]
        barrier.wait(30)
        r = s.post(ctl.rpc_url("clusters"), json=op_body, timeout=TIMEOUT)
        _ = r.content
        statuses[ctl.index] = r.status_code
        ends[ctl.index] = time.perf_counter()

    pool = [threading.Thread(target=fire, args=(c,)) for c in ctls]
    for t in pool:
        t.start()
    cpu0 = cpu_seconds(pid) if pid else None
    admin_call(estate.admin_url, "DELETE", "/stats")
    barrier.wait(30)
    t0 = time.perf_counter()
    for t in pool:
        t.join(60)
    cpu1 = cpu_seconds(pid) if pid else None
    lag = admin_call(estate.admin_url, "GET", "/stats")["loop_lag_max_ms"]
    estate.set_faults(latency=0.0)
    for s in sessions.values():
        s.close()
    per = sorted(e - t0 for e in ends.values())
    ok = sum(1 for v in statuses.values() if v == 200)
    wall = per[-1] if per else float("nan")
    cpu = f", simulator CPU {(cpu1 - cpu0) * 1000:.0f} ms" if cpu0 is not None and cpu1 else ""
    cpu += f", worst loop lag {lag:.0f} ms"
    print(f"    {label}: {ok}/{len(ctls)} ok, wall {wall * 1000:.0f} ms "
          f"(first reply {per[0] * 1000:.0f} ms, median {statistics.median(per) * 1000:.0f} ms"
          f"{cpu})")
    return wall


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller counts")
    args = p.parse_args(argv)
    n_single = 20 if args.quick else 100
    n_total = 500 if args.quick else 3000
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; starting 50 controllers "
          "x 40 clusters x 5 hosts in a child process ...")
    t = time.perf_counter()
    estate = start_estate(controllers=50, clusters=40, hosts=5, seed=1, subprocess=True)
    try:
        print(f"    ready in {time.perf_counter() - t:.1f} s")
        pid = admin_call(estate.admin_url, "GET", "/health").get("pid")
        single_latency(estate, n_single)
        throughput(estate, pid, n_total, 16, cap=60.0)
        ping = {"operation": "ping", "cluster_id": 0}
        print("[3] one request to each of the 50 controllers at the same instant")
        print("    fresh TLS connections (handshake included):")
        burst(estate, pid, 0.0, GET_ALL, "getAllClusterInfo, no added latency", True)
        burst(estate, pid, 0.2, GET_ALL, "getAllClusterInfo, 200 ms latency  ", True)
        burst(estate, pid, 0.2, ping, "ping,              200 ms latency  ", True)
        print("    keep-alive connections opened beforehand (pooled sessions):")
        burst(estate, pid, 0.0, GET_ALL, "getAllClusterInfo, no added latency", False)
        burst(estate, pid, 0.2, GET_ALL, "getAllClusterInfo, 200 ms latency  ", False)
        burst(estate, pid, 0.2, ping, "ping,              200 ms latency  ", False)
    finally:
        estate.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
