"""`ccmgradm init --local-cmon` end to end (issue 13 item 3): a real daemon, a simulated
local controller registered with use_cmon_auth, and a cmon user logging in to ccmgr."""

from __future__ import annotations

import json

from ccmgr.cli import main
from daemonkit import start_daemon, stop_daemon


def test_a_cmon_user_logs_in_and_sees_the_local_controllers_clusters(basedir, cmon_estate):
    estate = cmon_estate(controllers=1, clusters=2, hosts=1, seed=3)
    ctl = estate[0]
    assert main(["--basedir", str(basedir), "init", "--local-cmon", "-u", ctl.url]) == 0
    daemon = start_daemon(basedir)
    try:
        s = daemon.session()
        cmon_user = next(u for u in ctl.users if u["user_name"] != ctl.username)
        reply = s.post(f"{daemon.url}/proxy/auth/login", timeout=30, data=json.dumps(
            {"username": cmon_user["user_name"], "password": cmon_user["password"]}))
        assert reply.status_code == 200, reply.text
        user = reply.json()["user"]
        assert user["username"] == cmon_user["user_name"] and user["cmon"] is True
        xid = user["xid"]
        assert cmon_user["password"] not in reply.text
        clusters = s.post(f"{daemon.url}/proxy/clusters/status", data="{}", timeout=30).json()
        assert clusters["clusters_count"] == {ctl.url: 2}, clusters
        status = s.post(f"{daemon.url}/proxy/controllers/status", data="{}", timeout=30).json()
        assert status["controllers"][0]["status"] == "ok"
        ctl.reset_counters()
        rpc = s.post(f"{daemon.url}/v2/clusters", timeout=30, data=json.dumps(
            {"operation": "getAllClusterInfo", "xid": xid}))
        assert rpc.status_code == 200 and len(rpc.json()["clusters"]) == 2
        assert ctl.callers() == {("/v2/clusters", cmon_user["user_name"]): 1}
        wrong = daemon.session().post(f"{daemon.url}/proxy/auth/login", timeout=30,
                                      data=json.dumps({"username": cmon_user["user_name"],
                                                       "password": "wrong"}))
        assert wrong.status_code == 401
        # The local admin has no credentials for it: an explicit reason, not a failure.
        admin = daemon.session()
        assert admin.post(f"{daemon.url}/proxy/auth/login", timeout=30, data=json.dumps(
            {"username": "admin", "password": daemon.admin_password()})).status_code == 200
        local = admin.post(f"{daemon.url}/proxy/controllers/status", data="{}",
                           timeout=30).json()["controllers"][0]
        assert local["status"] == "authentication-error"
        assert "cmon authentication is required" in local["status_message"]
    finally:
        stop_daemon(daemon)
