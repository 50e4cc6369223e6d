"""Reply compression bench: sizes of the big list replies with and without gzip, and what
compressing costs per request (issue 13: cmon-proxy gzips every reply).

    .venv/bin/python bench/replies_gzip.py [--controllers 20] [--clusters 20] [--hosts 3]

An in-process app (falcon's test client, no sockets on ccmgr's side) over a cmonsim estate
on loopback, cache warmed first; each figure is the median of --runs requests. Nothing
here is asserted; the figures go to docs/benchmarks.md ("Reply compression").
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

from ccmgr.app import create_app  # noqa: E402
from ccmgr.bootstrap import bootstrap  # noqa: E402
from ccmgr.collectors.service import Collectors  # noqa: E402
from ccmgr.runtime import Services  # noqa: E402
from cmonsim.testing import start_estate  # noqa: E402
from daemonkit import write_config  # noqa: E402
from falcon import testing  # noqa: E402

PATHS = ("/proxy/clusters/list", "/proxy/clusters/hosts", "/proxy/jobs/list",
         "/proxy/clusters/status")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--controllers", type=int, default=20)
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with start_estate(controllers=args.controllers, clusters=args.clusters, hosts=args.hosts,
                      seed=5) as estate, tempfile.TemporaryDirectory() as tmp:
        basedir = Path(tmp)
        write_config(basedir, {"timeout": 30, "instances": [
            {"url": c.url, "name": c.name, "username": c.username, "password": c.password}
            for c in estate]})
        services = Services.from_basedir(str(basedir))
        password = bootstrap(services)
        collectors = Collectors()
        client = testing.TestClient(create_app(services, collectors=collectors))
        sid = client.simulate_post("/proxy/auth/login", body=json.dumps(
            {"username": "admin", "password": password})).cookies["sid"].value
        print(f"{args.controllers} controllers x {args.clusters} clusters x {args.hosts} hosts")
        for path in PATHS:
            client.simulate_post(path, body="{}", cookies={"sid": sid})  # warm the cache
            sizes, times = {}, {"plain": [], "gzip": []}
            for _ in range(max(1, min(args.runs, 50))):
                for mode, headers in (("plain", {}), ("gzip", {"Accept-Encoding": "gzip"})):
                    started = time.perf_counter()
                    reply = client.simulate_post(path, body="{}", cookies={"sid": sid},
                                                 headers=headers)
                    times[mode].append(time.perf_counter() - started)
                    sizes[mode] = len(reply.content)
            print(f"{path}: {sizes['plain'] / 1024:.0f} KiB -> {sizes['gzip'] / 1024:.0f} KiB "
                  f"({sizes['plain'] / max(1, sizes['gzip']):.1f}x); median "
                  f"{statistics.median(times['plain']) * 1000:.1f} ms plain, "
                  f"{statistics.median(times['gzip']) * 1000:.1f} ms with gzip")
        collectors.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
