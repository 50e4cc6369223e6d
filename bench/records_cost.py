"""What a cached cluster list costs, per host and per reply: the typed path (cmon.wire,
issue 17) against the tolerant path, which is what every reply took before (a dict decode
(jsonfast), then each cluster shaped and re-encoded by records.light_cluster).

    .venv/bin/python bench/records_cost.py [--controllers 500] [--clusters 40] [--hosts 5]

One simulated controller's real ``getAllClusterInfo`` reply (cmonsim, in-process, loopback)
is copied once per controller, then turned into cache payloads both ways. Memory is what
tracemalloc counts as still allocated once the payloads are built (the reply bytes
included where a path keeps them), per host; time is one core's CPU per reply, measured
in a separate pass without tracemalloc. Nothing is
asserted; figures go to docs/benchmarks.md ("Scale").
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from ccmgr.cmon import records  # noqa: E402
from ccmgr.cmon.client import CmonClient, Credentials  # noqa: E402
from ccmgr.collectors import fetch  # noqa: E402
from ccmgr.http import HttpPool  # noqa: E402
from ccmgr.jsonfast import loads  # noqa: E402
from cmonsim.testing import start_estate  # noqa: E402


def tolerant(body: bytes) -> dict:
    """The payload as it was made before issue 17 (and still is for odd replies)."""
    decoded = loads(body)
    return {"clusters": [records.light_cluster(c) for c in decoded.get("clusters") or ()
                         if isinstance(c, dict)],
            "processed": records.norm_time(decoded.get("request_processed"))}


def measure(name: str, build: Callable[[bytes], dict], bodies: list[bytes], hosts: int,
            keeps_reply: bool) -> None:
    """CPU per reply without tracemalloc (it slows allocation-heavy code), then the memory
    kept with it; the reply bytes count where the payload keeps them."""
    gc.collect()
    started = time.process_time()
    payloads = [build(b) for b in bodies]
    cpu = time.process_time() - started
    del payloads
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    payloads = [build(b) for b in bodies]
    current = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    kept = current - base + (sum(len(b) for b in bodies) if keeps_reply else 0)
    print(f"{name:>9}: {kept / 2**20:6.1f} MiB kept = {kept / hosts / 1024:.2f} KiB per host "
          f"(reply bytes {'included' if keeps_reply else 'not kept'}); "
          f"{cpu / len(bodies) * 1000:.2f} ms of CPU per reply", flush=True)
    del payloads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--controllers", type=int, default=500)
    parser.add_argument("--clusters", type=int, default=40)
    parser.add_argument("--hosts", type=int, default=5)
    args = parser.parse_args(argv)
    with start_estate(controllers=1, clusters=args.clusters, hosts=args.hosts, seed=1) as sim:
        ctl = sim[0]
        http = HttpPool()
        client = CmonClient(http, ctl.url, Credentials(ctl.username, ctl.password), timeout=30)
        _, body = client.call_typed("clusters", fetch.CLUSTERS_QUERY, None, lambda b: None)
        http.close()
    hosts_per_reply = sum(len(c.get("hosts") or ()) for c in loads(body)["clusters"])
    bodies = [bytes(bytearray(body)) for _ in range(args.controllers)]  # distinct objects
    hosts = hosts_per_reply * args.controllers
    print(f"{args.controllers} replies of {len(body) / 1024:.0f} KiB, {hosts_per_reply} hosts "
          f"each ({hosts} hosts); the reply bytes alone are "
          f"{len(body) / hosts_per_reply / 1024:.2f} KiB per host")
    measure("typed", fetch.clusters_payload, bodies, hosts, keeps_reply=True)
    measure("tolerant", tolerant, bodies, hosts, keeps_reply=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
