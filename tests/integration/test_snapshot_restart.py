"""A restarted daemon serves the previous run's cluster lists (collectors.snapshot) at once,
with their real age, while its controllers are too slow to answer (issue 17)."""

from __future__ import annotations

import json
import os
import stat
import time

from ccmgr.collectors import snapshot
from daemonkit import start_daemon, stop_daemon, write_config


def _status(daemon, password: str):
    s = daemon.session()
    login = s.post(f"{daemon.url}/proxy/auth/login", timeout=30,
                   data=json.dumps({"username": "admin", "password": password}))
    assert login.status_code == 200, login.text
    started = time.monotonic()
    reply = s.post(f"{daemon.url}/proxy/clusters/status", data="{}", timeout=30)
    return reply, started, time.monotonic()


def test_a_restarted_daemon_answers_from_the_snapshot_while_controllers_are_slow(
        basedir, cmon_estate):
    estate = cmon_estate(controllers=3, clusters=[2, 3, 4], hosts=2, seed=5)
    expected = {c.url: len(c.data()["clusters"]) for c in estate}
    write_config(basedir, {"timeout": 3, "instances": [
        {"xid": f"snapxid{i}", "url": c.url, "name": c.name, "username": c.username,
         "password": c.password} for i, c in enumerate(estate)]})
    path = snapshot.path_in(str(basedir))

    first_start = time.monotonic()
    daemon = start_daemon(basedir)
    try:
        password = daemon.admin_password()
        reply, _, fetched_by = _status(daemon, password)
        assert reply.json()["clusters_count"] == expected, reply.text
    finally:
        stopping = time.time()
        stop_daemon(daemon)
    # Written at exit (the periodic write comes 60 s after start at the earliest).
    assert os.stat(path).st_mtime >= stopping - 1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, "rb") as handle:
        raw = handle.read()
    assert sorted(s.xid for s in snapshot.decode(raw)) == ["snapxid0", "snapxid1", "snapxid2"]
    assert not any(c.password.encode() in raw for c in estate)

    time.sleep(3)  # an age the header can tell from "fetched just now"
    estate.set_faults(latency=4)  # slower than the daemon's timeout: no fresh data in time
    daemon = start_daemon(basedir)
    try:
        reply, asked, answered = _status(daemon, password)
        assert reply.status_code == 200
        assert answered - asked < 2.0, "waited for the controllers"
        assert reply.json()["clusters_count"] == expected
        age = int(reply.headers["X-Ccmgr-Data-Age"])
        assert int(asked - fetched_by) <= age <= answered - first_start + 1
        assert age >= 3
    finally:
        estate.clear_faults()
        stop_daemon(daemon)
