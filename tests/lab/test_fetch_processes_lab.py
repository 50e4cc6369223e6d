"""Issue 17 on the lab: CCMGR_FETCH_PROCESSES set in a drop-in, as docs/operations.md says,
works under the installed, hardened unit (its system-call filter, address families and
private /tmp): the secondary's worker starts its fetch processes as the service user in
the unit's cgroup, the seeded controllers are fetched through them with the same totals,
and without the drop-in they are gone again."""

from __future__ import annotations

import pytest
from labkit import Lab
from testkit import poll

pytestmark = pytest.mark.lab
PLAN = Lab.from_env()
NODE = PLAN.groups["ccm_secondary"][0]
DROPIN_DIR = "/etc/systemd/system/ccmgr.service.d"
DROPIN = f"{DROPIN_DIR}/50-fetch-processes.conf"


def fetch_processes(site: Lab) -> list[dict]:
    """The fetch processes on the node: pid, parent, user and cgroup of each."""
    pids = site.ssh(NODE, "pgrep -f 'ccmgr[.]cmon[.]offload'", check=False).stdout.split()
    found = []
    for pid in pids:
        ps = site.ssh(NODE, f"ps -o ppid=,user= -p {pid}; cat /proc/{pid}/cgroup",
                      check=False).stdout.split("\n", 1)
        if len(ps) == 2 and ps[0].split():
            ppid, user = ps[0].split()
            found.append({"pid": int(pid), "ppid": int(ppid), "user": user, "cgroup": ps[1]})
    return found


def workers(site: Lab) -> set[int]:
    arbiter = site.ssh(NODE, "systemctl show -p MainPID --value ccmgr").stdout.strip()
    return {int(p) for p in site.ssh(NODE, f"pgrep -P {arbiter}", check=False).stdout.split()}


def restart_and_wait(site: Lab) -> None:
    site.ssh(NODE, "systemctl daemon-reload && systemctl restart ccmgr", timeout=90)

    def serving() -> bool:
        try:
            return site.node_session(NODE)[0].get(
                f"https://{PLAN.vip}/health", timeout=10).headers.get("X-Ccmgr-Node") == NODE
        except (AssertionError, OSError):
            return False
    assert poll(serving, 60, interval=1), f"{NODE} is not served through the balancer"


def status(site: Lab) -> dict:
    s, url = site.node_session(NODE)
    reply = s.post(f"{url}/proxy/clusters/status", json={"force_update": True}, timeout=60)
    assert reply.status_code == 200, reply.text
    assert reply.headers.get("X-Ccmgr-Node") == NODE
    return reply.json()


def test_fetch_processes_run_under_the_hardened_unit(site):
    site.start_simulators()
    before = status(site)
    assert sum(before["clusters_count"].values()) > 0, before
    assert fetch_processes(site) == []
    site.ssh(NODE, f"mkdir -p {DROPIN_DIR} && printf '[Service]\\n"
                   f"Environment=CCMGR_FETCH_PROCESSES=2\\n' > {DROPIN}")
    try:
        restart_and_wait(site)
        after = status(site)
        assert after["clusters_count"] == before["clusters_count"]
        assert after["nodes_count"] == before["nodes_count"]
        children = poll(lambda: fetch_processes(site) or None, 30)
        worker_pids = workers(site)
        for child in children:
            assert child["ppid"] in worker_pids, (child, worker_pids)
            assert child["user"] == "ccmgr"
            assert "ccmgr.service" in child["cgroup"], child["cgroup"]
        # Three seeded controllers over two processes: one or both are in use.
        assert 1 <= len(children) <= 2, children
        journal = site.ssh(NODE, "journalctl -u ccmgr --since '-2min' --no-pager -o cat",
                           check=False).stdout
        assert "Traceback" not in journal and "fetch process" not in journal, journal[-3000:]
    finally:
        site.ssh(NODE, f"rm -f {DROPIN}")
        restart_and_wait(site)
    assert fetch_processes(site) == []
