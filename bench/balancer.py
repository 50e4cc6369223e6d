"""Failover and reload figures of the balancer pair on the lab (docs/benchmarks.md).

Prints figures; asserts nothing. Needs the lab up and deployed (root):

    flock /tmp/ccmgr-lab-run.lock sh -c 'make lab-up && \
        .venv/bin/ansible-playbook -i /var/lib/ccmgr-lab/inventory.yml ansible/site.yml && \
        .venv/bin/python bench/balancer.py [RUNS [KIND...]]'

Each run sends ~20 logged-in requests/s through the virtual address (tests/lab/
balancerkit.py) and measures:
- haproxy-dead: kill -9 of every HAProxy process on the balancer holding the address,
  kept down; the gap until the address answers again (from the other balancer), raw
  failures, failures with one retry (4 s after a connection error or timeout);
- haproxy-restarts: the same kill -9 with the unit's Restart=always left alone (systemd
  restarts HAProxy; whether the address moves depends on the race with the check);
- power-cut: the holder's host killed at once (labctl.py stop --hard), then booted again;
- reload: `systemctl reload haproxy` on the holder, under the same load.
Only lab addresses are contacted; every loop is bounded.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lab"))

from balancerkit import Traffic
from labkit import Lab
from testkit import poll

NORESTART = "/run/systemd/system/haproxy.service.d/zz-bench-no-restart.conf"


def serves(lab: Lab, name: str) -> bool:
    return lab.ssh(name, "curl -sf -o /dev/null --max-time 1 http://127.0.0.1:8405/lb-health",
                   check=False).returncode == 0


def traffic(lab: Lab) -> Traffic:
    password = (lab.paths.state / "secrets" / "ccmgr-admin-password").read_text().strip()
    return Traffic(lab.vip, lab.paths.state / "pki" / "ca.crt", password, rate=20,
                   max_seconds=60, max_requests=1200)


def settle(lab: Lab) -> str:
    assert poll(lambda: all(serves(lab, b) for b in lab.groups["loadbalancer"]), 60)
    time.sleep(3)  # the check's rise on a balancer that just came back
    return lab.active_balancer(timeout=20)


def one_run(lab: Lab, kind: str) -> dict:
    active = settle(lab)
    with traffic(lab) as load:
        time.sleep(3)
        before = time.monotonic()
        if kind == "haproxy-dead":
            lab.ssh(active, f"mkdir -p {NORESTART.rsplit('/', 1)[0]} && printf '[Service]\\n"
                            f"Restart=no\\n' > {NORESTART} && systemctl daemon-reload && "
                            "systemctl kill --signal=SIGKILL haproxy")
        elif kind == "haproxy-restarts":
            lab.ssh(active, "systemctl kill --signal=SIGKILL haproxy")
        elif kind == "power-cut":
            assert lab.labctl("stop", active, "--hard", timeout=60).returncode == 0
        else:
            lab.ssh(active, "systemctl reload haproxy")
        fault = time.monotonic()  # the fault is in place once the command returns
        answered = load.wait_answering(fault, 20)
        time.sleep(4)
    if kind == "power-cut":
        assert lab.labctl("start", active, timeout=180).returncode == 0
    if kind == "haproxy-dead":
        lab.ssh(active, f"rm -f {NORESTART} && systemctl daemon-reload && "
                        "systemctl reset-failed haproxy; systemctl start haproxy")
    report = load.report()
    holder = lab.active_balancer(timeout=20)
    return {"kind": kind, "from": active, "to": holder, "gap": report.gap(after=before),
            "answered": answered, "raw": report.raw_failures, "failed": report.failures,
            "requests": len(report.samples), "sticky": report.nodes == {report.sticky}}


def summary(rows: list[dict], kind: str) -> None:
    rows = [r for r in rows if r["kind"] == kind]
    gaps = [r["gap"] for r in rows]
    print(f"{kind}: {len(rows)} runs; gap min/median/max {min(gaps):.2f} / "
          f"{statistics.median(gaps):.2f} / {max(gaps):.2f} s; raw failures "
          f"{sum(r['raw'] for r in rows)} of {sum(r['requests'] for r in rows)} requests; "
          f"failures with one retry {sum(r['failed'] for r in rows)}; address moved in "
          f"{sum(r['from'] != r['to'] for r in rows)} of {len(rows)}; session and node kept "
          f"in {sum(r['sticky'] for r in rows)} of {len(rows)}")


def main(argv: list[str]) -> int:
    runs = int(argv[1]) if len(argv) > 1 else 5
    kinds = argv[2:] or ["haproxy-dead", "haproxy-restarts", "reload"]
    lab = Lab.from_env()
    rows = []
    for kind in kinds:
        for i in range(runs):
            row = one_run(lab, kind)
            rows.append(row)
            print(f"  {kind} #{i + 1}: {row['from']} -> {row['to']}, gap {row['gap']:.2f} s, "
                  f"raw {row['raw']}, with retry {row['failed']}, {row['requests']} requests",
                  flush=True)
    for kind in kinds:
        summary(rows, kind)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
