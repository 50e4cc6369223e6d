"""The lab itself: hosts boot, have their own identity, reach each other, ssh is pinned."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from labkit import VENV_BIN, venv_env

pytestmark = pytest.mark.lab


def test_every_host_reaches_running(lab):
    states = {}
    for name in lab.hosts:
        proc = lab.ssh(name, "systemctl is-system-running --wait", check=False, timeout=120)
        state = proc.stdout.strip()
        if state != "running":
            failed = lab.ssh(name, "systemctl --failed --plain --no-legend", check=False)
            state += f" (failed units: {failed.stdout.strip() or 'none'})"
        states[name] = state
    assert states == dict.fromkeys(lab.hosts, "running")


def test_ssh_checks_the_pinned_host_key(lab):
    pinned = {}
    for line in lab.known_hosts.read_text().splitlines():
        names, keytype, key = line.split()
        pinned[names] = f"{keytype} {key}"
    for name, address in lab.hosts.items():
        served = lab.ssh(name, "cat /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()
        assert pinned[f"{name},{address}"] == f"{served[0]} {served[1]}"
    # An unknown key is refused: with an empty known_hosts, StrictHostKeyChecking=yes fails.
    empty = lab.paths.state / "empty_known_hosts"
    empty.write_text("")
    try:
        proc = subprocess.run(
            ["ssh", "-F", str(lab.ssh_config), "-o", f"UserKnownHostsFile={empty}",
             "-o", "StrictHostKeyChecking=yes", "ccm1", "true"],
            capture_output=True, text=True, timeout=30)
    finally:
        empty.unlink()
    assert proc.returncode != 0
    assert "Host key verification failed" in proc.stderr


def test_each_host_has_its_own_identity(lab):
    seen = {"hostname": set(), "machine-id": set(), "host key": set()}
    for name in lab.hosts:
        out = lab.ssh(name, "hostname; cat /etc/machine-id; "
                            "cut -d' ' -f2 /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()
        assert out[0] == name
        for kind, value in zip(seen, out, strict=True):
            seen[kind].add(value)
    assert all(len(values) == len(lab.hosts) for values in seen.values()), seen


def test_each_host_has_its_fixed_address(lab):
    for name, address in lab.hosts.items():
        out = lab.ssh(name, "ip -o -4 addr show dev host0").stdout
        assert f" {address}/24 " in out


def test_names_resolve_between_hosts(lab):
    for name in lab.hosts:
        for other, address in lab.hosts.items():
            out = lab.ssh(name, f"getent ahostsv4 {other}").stdout
            assert out.split()[0] == address, f"{other} from {name}: {out}"


def test_hosts_reach_each_other_on_the_bridge(lab):
    for name in lab.hosts:
        others = " ".join(o for o in lab.hosts if o != name)
        # Bounded: one echo request each, 2 s timeout.
        lab.ssh(name, f"for h in {others}; do ping -c1 -W2 $h >/dev/null || exit 1; done")


def test_status_lists_every_host_as_running(lab):
    proc = lab.labctl("status", timeout=120)
    assert proc.returncode == 0
    for name, address in lab.hosts.items():
        line = next(ln for ln in proc.stdout.splitlines() if ln.startswith(name + " "))
        assert address in line
        assert "yes (pid" in line
        assert line.split()[-1] == "running"


def test_inventory_has_the_design_groups(lab):
    proc = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", str(lab.inventory),
                           "--list"], capture_output=True, text=True, timeout=60,
                          env=venv_env())
    assert proc.returncode == 0, proc.stderr
    inv = json.loads(proc.stdout)
    assert inv["loadbalancer"]["hosts"] == ["lb1", "lb2"]
    assert inv["ccm_primary"]["hosts"] == ["ccm1"]
    assert inv["ccm_secondary"]["hosts"] == lab.groups["ccm_secondary"]
    assert sorted(inv["ccm"]["children"]) == ["ccm_primary", "ccm_secondary"]
    assert inv["cmon_sim"]["hosts"] == ["cmon1"]
    hostvars = inv["_meta"]["hostvars"]
    assert {n: hostvars[n]["ansible_host"] for n in lab.hosts} == lab.hosts
    # The service address is the pair's, no host's own.
    assert hostvars["lb1"]["lab_virtual_address"] == lab.vip
    assert lab.vip not in lab.hosts.values()


def test_key_pair_is_private(lab):
    assert lab.key.stat().st_mode & 0o777 == 0o600
    assert lab.paths.state.stat().st_mode & 0o077 == 0


def test_second_up_changes_nothing_and_is_fast(lab):
    files = [lab.inventory, lab.ssh_config, lab.known_hosts, lab.paths.state_file]
    before = {f: (f.read_text(), f.stat().st_mtime_ns) for f in files}
    pids = {n: lab.paths.pidfile(n).read_text() for n in lab.hosts}
    started = time.monotonic()
    proc = lab.up()
    elapsed = time.monotonic() - started
    assert "nothing changed" in proc.stdout
    assert {f: (f.read_text(), f.stat().st_mtime_ns) for f in files} == before
    assert {n: lab.paths.pidfile(n).read_text() for n in lab.hosts} == pids
    assert elapsed < 30, f"idempotent up took {elapsed:.1f}s"
