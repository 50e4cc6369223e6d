"""Dashboard bench: headless Chromium against a real daemon over a simulated estate.

    .venv/bin/python bench/ui.py [--controllers 50] [--clusters 40] [--hosts 5] [--runs 7]
    .venv/bin/python bench/ui.py --controllers 500 --runs 3        # the big overview

Starts cmonsim in its own process (bench/aggregate.py's estate: 200 ms latency per
controller reply) and a ccmgr daemon on loopback, warms ccmgr's cache and the browser's
HTTP cache, then measures (figures go to docs/benchmarks.md, "Web dashboard"; nothing
here is asserted):

* navigation to the overview until it is fully rendered: every controller tile and every
  chart's numbers on screen (median of --runs page loads);
* a clusters list page change (Next, until the new rows are on screen; median);
* the API replies behind the overview, timed from Python on the same warm cache (what of
  the load time is the server's);
* the size of the initial load (index.html + JS + CSS), gzip as served over the wire by
  a typical proxy (level 6) and at level 9.

All traffic goes to 127.0.0.1; every loop is bounded; everything started is stopped.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from benchkit import daemon_over_estate, estate_of, estate_options  # noqa: E402
from browserkit import BUILT, CHROMIUM, CHROMIUM_ARGS  # noqa: E402

OVERVIEW_CALLS = ("/proxy/controllers/status", "/proxy/clusters/status", "/proxy/alarms/status",
                  "/proxy/jobs/status", "/proxy/backups/status")
RENDERED = """(n) => document.querySelectorAll('li.tile').length === n &&
    ['cluster_states', 'node_states', 'alarms_count', 'job_count', 'backups_count']
      .every(id => document.querySelector(`[data-chart=${id}] li`)) &&
    !!document.querySelector('[data-key=missing_schedules]')"""


def bundle_sizes() -> tuple[int, int, int]:
    """(raw, gzip -6, gzip -9) bytes of index.html and the files it loads."""
    root = BUILT.parent
    files = [BUILT, *sorted((root / "assets").iterdir())]
    raw = sum(f.stat().st_size for f in files)
    six = sum(len(gzip.compress(f.read_bytes(), 6)) for f in files)
    nine = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
    return raw, six, nine


def median_ms(values: list[float]) -> str:
    return (f"{statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f}, "
            f"max {max(values) * 1000:.0f}, n={len(values)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    estate_options(parser)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    raw, six, nine = bundle_sizes()
    print(f"initial load (index.html + JS + CSS): {raw / 1024:.1f} KiB raw, "
          f"{six / 1024:.1f} KiB gzip -6, {nine / 1024:.1f} KiB gzip -9")
    with daemon_over_estate(60, "ccmgr-uibench-", **estate_of(args)) as bench:
        daemon, s = bench.daemon, bench.session
        started = time.perf_counter()
        for kind in ("clusters", "alarms", "jobs", "backups"):  # warm ccmgr's cache
            s.post(f"{daemon.url}/proxy/{kind}/status", json={}, timeout=300)
        s.post(f"{daemon.url}/proxy/controllers/status", json={}, timeout=300)
        print(f"ccmgr cache warmed in {time.perf_counter() - started:.1f} s", flush=True)
        for path in OVERVIEW_CALLS:
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                reply = s.post(f"{daemon.url}{path}", json={}, timeout=300)
                times.append(time.perf_counter() - t0)
                reply.raise_for_status()
            print(f"  {path}: {median_ms(times)}, {len(reply.content) / 1024:.0f} KiB")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(ignore_https_errors=True,
                                              viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(daemon.url + "/")
                page.fill("#l-user", "admin")
                page.fill("#l-pass", daemon.admin_password())
                page.click("form button[type=submit]")
                page.wait_for_function(RENDERED, arg=args.controllers, timeout=300_000,
                                       polling="raf")
                loads = []
                for _ in range(args.runs):
                    page.goto("about:blank")
                    t0 = time.perf_counter()
                    page.goto(daemon.url + "/")
                    page.wait_for_function(RENDERED, arg=args.controllers,
                                           timeout=120_000, polling="raf")
                    loads.append(time.perf_counter() - t0)
                print(f"navigation -> overview fully rendered: {median_ms(loads)}")

                page.goto(daemon.url + "/clusters")
                page.wait_for_selector("tbody tr", timeout=120_000)
                changes = []
                for n in range(args.runs * 2):
                    forward = n % 2 == 0
                    want = "26\u201350 of" if forward else "1\u201325 of"
                    button = "Next" if forward else "Previous"
                    t0 = time.perf_counter()
                    page.click(f"nav.pager button:has-text('{button}')")
                    page.wait_for_function(
                        "(w) => (document.querySelector('nav.pager span')?.textContent"
                        " || '').startsWith(w)"
                        " && !document.querySelector('table[aria-busy=true]')",
                        arg=want, timeout=60_000, polling="raf")
                    changes.append(time.perf_counter() - t0)
                print(f"clusters list page change: {median_ms(changes)}")
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
