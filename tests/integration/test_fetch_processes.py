"""The real daemon with CCMGR_FETCH_PROCESSES: gunicorn's worker starts its fetch processes,
serves the estate through them, replaces them with itself on a reload, and leaves none
behind when it stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess

from daemonkit import VENV_BIN, start_daemon, stop_daemon, write_config
from testkit import children, fetch_processes_of, poll, running


def _fetch_processes(arbiter: int) -> dict[int, list[int]]:
    """Each gunicorn worker and its fetch processes."""
    return {worker: fetch_processes_of(worker) for worker in children(arbiter)}


def test_the_daemon_fetches_through_its_fetch_processes_and_leaves_none_behind(
        basedir, cmon_estate):
    estate = cmon_estate(controllers=8, clusters=2, hosts=1, seed=21)
    write_config(basedir, {"timeout": 10, "instances": [
        {"url": c.url, "name": c.name, "username": c.username, "password": c.password}
        for c in estate]})
    daemon = start_daemon(basedir, env={"CCMGR_FETCH_PROCESSES": "2"})
    try:
        s = daemon.session()
        login = s.post(f"{daemon.url}/proxy/auth/login", timeout=30, data=json.dumps(
            {"username": "admin", "password": daemon.admin_password()}))
        assert login.status_code == 200, login.text
        reply = s.post(f"{daemon.url}/proxy/clusters/status", data='{"force_update": true}',
                       timeout=30)
        assert reply.status_code == 200, reply.text
        assert sum(reply.json()["clusters_count"].values()) == 16
        expected = 2  # started with the worker (Offload.start), not on first use
        (worker, helpers), = poll(lambda: [(w, h) for w, h in
                                           _fetch_processes(daemon.process.pid).items()
                                           if len(h) == expected] or None, timeout=10)
        for ctl in estate:
            assert ctl.count("/v2/clusters", "getAllClusterInfo") >= 1

        # A reload replaces the worker; the old worker's fetch processes end with it.
        os.kill(daemon.process.pid, signal.SIGHUP)
        assert poll(lambda: worker not in children(daemon.process.pid), timeout=30)
        assert poll(lambda: not any(running(h) for h in helpers), timeout=15)
        reply = s.post(f"{daemon.url}/proxy/clusters/status", data='{"force_update": true}',
                       timeout=30)
        assert sum(reply.json()["clusters_count"].values()) == 16
        (_, new_helpers), = poll(lambda: [(w, h) for w, h in
                                          _fetch_processes(daemon.process.pid).items()
                                          if len(h) == expected] or None, timeout=10)
        assert not set(new_helpers) & set(helpers)
    finally:
        stop_daemon(daemon)
    assert not any(running(h) for h in new_helpers)


def test_a_bad_number_of_fetch_processes_stops_the_service_at_start(basedir):
    write_config(basedir, {"instances": []})
    run = subprocess.run([str(VENV_BIN / "ccmgr"), "--basedir", str(basedir)],
                         env={**os.environ, "CCMGR_FETCH_PROCESSES": "lots"},
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 1
    assert "ccmgr: error: CCMGR_FETCH_PROCESSES='lots': expected a number of processes " \
           "from 0 to 16" in run.stderr
    assert "Traceback" not in run.stderr
