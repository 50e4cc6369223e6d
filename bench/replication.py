"""Replication lag and failover gap of an HA pair on loopback (real daemons, real sshd).

Prints figures; asserts nothing. Run as root: .venv/bin/python bench/replication.py
- lag: from a write acknowledged by the primary (HTTP 200) to the same generation served by
  the secondary's /health, over N writes (p50, p99, max);
- failover gap: a client polls the secondary while the primary is killed (kill -9); reads
  keep being served by the secondary, so the gap is measured for reads there.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

from hapair import build_pair, login, same_shared, wait_for

WRITES = 100


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        a, b = build_pair(Path(tmp))
        try:
            for node in (a, b):
                node.start_sshd()
            a.start()
            b.start()
            wait_for(lambda: same_shared(a, b), timeout=30)
            password = (a.basedir / "initial-admin-password").read_text().strip()
            s = login(a, "admin", password)
            watcher = b.session()
            lags, acks = [], []
            for i in range(WRITES):
                started = time.perf_counter()
                reply = s.post(f"{a.url}/proxy/auth/update", timeout=30, data=json.dumps(
                    {"user": {"username": "admin", "lastname": f"w{i}"}}))
                acked = time.perf_counter()
                assert reply.status_code == 200, reply.text
                target = a.health()["generation"]
                deadline = acked + 10
                while watcher.get(f"{b.url}/health", timeout=5).json()["generation"] < target:
                    if time.perf_counter() > deadline:
                        raise SystemExit("secondary did not catch up within 10 s")
                    time.sleep(0.001)
                lags.append((time.perf_counter() - acked) * 1000)
                acks.append((acked - started) * 1000)
            print(f"replication: {WRITES} writes through the primary's API")
            print(f"  write acknowledged (includes the synchronous push): "
                  f"p50 {statistics.median(acks):.0f} ms, p99 {percentile(acks, 99):.0f} ms")
            print(f"  lag ack -> secondary serves it: p50 {statistics.median(lags):.1f} ms, "
                  f"p99 {percentile(lags, 99):.1f} ms, max {max(lags):.1f} ms")

            failures, successes, last_ok, gap = 0, 0, time.perf_counter(), 0.0
            reader = login(b, "admin", password)
            a.kill9()
            killed = time.perf_counter()
            while time.perf_counter() - killed < 5:
                try:
                    ok = reader.post(f"{b.url}/proxy/auth/check", timeout=2).status_code == 200
                except OSError:
                    ok = False
                now = time.perf_counter()
                if ok:
                    gap = max(gap, now - last_ok)
                    last_ok, successes = now, successes + 1
                else:
                    failures += 1
                time.sleep(0.05)
            print(f"failover (primary kill -9, reads on the secondary): {successes} ok, "
                  f"{failures} failed, largest gap between successes {gap * 1000:.0f} ms")
        finally:
            for node in (a, b):
                node.stop()
                node.stop_sshd()
    return 0


if __name__ == "__main__":
    sys.exit(main())
