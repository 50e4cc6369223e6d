"""Issue 17 on the lab: fetch processes set with the ccmgr role's ``ccmgr_fetch_processes``
(a drop-in with CCMGR_FETCH_PROCESSES, docs/operations.md) work under the installed,
hardened unit (its system-call filter, address families and private /tmp): the
secondary's worker starts its fetch processes as the service user in the unit's cgroup,
the seeded controllers are fetched through them with the same totals, a second run of the
role changes nothing, and with the variable back at 0 they are gone again."""

from __future__ import annotations

import pytest
from labkit import Lab
from testkit import poll

pytestmark = pytest.mark.lab
PLAN = Lab.from_env()
NODE = PLAN.groups["ccm_secondary"][0]
DROPIN = "/etc/systemd/system/ccmgr.service.d/50-fetch-processes.conf"


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


def converge_with(site: Lab, processes: int) -> str:
    """The ccmgr role's node settings on NODE with ``ccmgr_fetch_processes``; its recap."""
    run = site.playbook("ansible/site.yml", "--limit", NODE, "--tags", "ccmgr-config",
                        "-e", f"ccmgr_fetch_processes={processes}", timeout=600)

    def serving() -> bool:
        try:
            return site.node_session(NODE)[0].get(
                f"https://{PLAN.vip}/health", timeout=10).headers.get("X-Ccmgr-Node") == NODE
        except (AssertionError, OSError):
            return False
    assert poll(serving, 60, interval=1), f"{NODE} is not served through the balancer"
    return run.stdout


def changed_on_node(recap: str) -> int:
    line = next(line for line in recap.splitlines()
                if line.startswith(NODE) and "changed=" in line)
    return int(line.split("changed=")[1].split()[0])


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
    try:
        first = converge_with(site, 2)
        assert changed_on_node(first) >= 1, first[-3000:]
        assert "CCMGR_FETCH_PROCESSES=2" in site.ssh(NODE, f"cat {DROPIN}").stdout
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
        again = converge_with(site, 2)  # idempotent: no drop-in rewritten, no restart
        assert changed_on_node(again) == 0, again[-3000:]
        assert {c["pid"] for c in fetch_processes(site)} == {c["pid"] for c in children}
    finally:
        converge_with(site, 0)
    assert site.ssh(NODE, f"test -e {DROPIN}", check=False).returncode == 1
    assert fetch_processes(site) == []
    assert status(site)["clusters_count"] == before["clusters_count"]


def test_a_bad_number_of_fetch_processes_is_refused_before_any_change(site):
    run = site.playbook("ansible/site.yml", "--limit", NODE, "--tags", "ccmgr-config",
                        "-e", "ccmgr_fetch_processes=17", timeout=600, check=False)
    assert run.returncode != 0
    assert "ccmgr_fetch_processes must be 0 to 16" in run.stdout, run.stdout[-3000:]
    assert site.ssh(NODE, f"test -e {DROPIN}", check=False).returncode == 1
