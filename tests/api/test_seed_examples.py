"""Every request example of the cmon-proxy README (shared/seeds), replayed: reply shapes.

Redacted URLs of the README are replaced by simulated controllers; the README's broken
``{"{filters": ...}`` bodies are answered 400 (ccmgr refuses unknown fields, see
docs/compatibility.md) where cmon-proxy silently ignored them.
"""

from __future__ import annotations

import re

import pytest

ENVELOPE = {"request_created", "request_processed", "request_status"}
STATUS_KEYS = {"controller_id", "controller_name", "url", "version", "status_message",
               "status"}


@pytest.fixture
def api(make_api):
    return make_api(controllers=2, clusters=3, hosts=2, seed=9)


def test_auth_examples(api):
    login = api.login("admin", api.admin_password)
    assert set(login.json) >= ENVELOPE and login.json["request_status"] == "Ok"
    assert login.json["user"] == {"username": "admin", "role": "admin"}
    check = api.post("/proxy/auth/check", {})
    assert set(check.json) >= ENVELOPE and check.json["user"]["username"] == "admin"
    update = api.post("/proxy/auth/update", {"user": {"username": "admin",
                                                      "email": "admin@example.com"}})
    assert update.json["user"] == {"username": "admin", "email": "admin@example.com",
                                  "role": "admin"}
    setpw = api.post("/proxy/auth/setpassword", {"old_password": api.admin_password,
                                                 "new_password": "password"})
    assert setpw.status_code == 200 and setpw.json["user"]["username"] == "admin"
    api.sid = setpw.cookies["sid"].value


def test_controller_examples(api):
    status = api.get("/proxy/controllers/status")  # curl -k .../controllers/status (a GET)
    assert status.status_code == 200
    assert all(set(c) >= STATUS_KEYS for c in status.json["controllers"])
    down = api.estate[1]
    down.stop()
    test = api.post("/proxy/controllers/test", {"controller": {
        "url": down.url, "name": "testadd", "username": "someuser", "password": "password"}})
    assert set(test.json["controller"]) >= STATUS_KEYS
    assert test.json["controller"]["status"] == "failed"
    # refused, or reset (or the TLS handshake cut: EOF) when the simulator drops the
    # listener while we connect
    assert re.search(r"connection (refused|reset)|Connection aborted|Remote end closed"
                     r"|TLS failure: EOF",
                     test.json["controller"]["status_message"])
    xid = api.xid(1)
    update = api.post("/proxy/controllers/update", {"controller": {
        "xid": xid, "url": down.url, "name": "testadd", "username": "someuser",
        "password": "password"}})
    assert update.json["controller"]["controller_name"] == "testadd"
    assert update.json["controller"]["status"] == "failed"
    remove = api.post("/proxy/controllers/remove", {"xid": xid})
    assert remove.json == {"type": "Ok", "message": "The controller is removed."}


def test_cluster_examples(api):
    status = api.post("/proxy/clusters/status", {"filters": [
        {"key": "tags", "matchall": ["test", "bitcoin"]}]})
    assert status.status_code == 200 and status.json == {}  # no such tags in the estate
    status = api.post("/proxy/clusters/status", {})
    assert {"cluster_states", "clusters_count", "nodes_count", "node_states",
            "by_controller"} <= set(status.json)
    for per_ctl in status.json["by_controller"].values():
        assert {"cluster_states", "node_states", "by_cluster"} <= set(per_ctl)
    listed = api.post("/proxy/clusters/list", {"filters": [
        {"key": "state", "values": ["DEGRADED", "FAILURE"]}], "with_hosts": False})
    assert listed.json["clusters"]
    for item in listed.json["clusters"]:
        assert {"controller_id", "controller_url", "class_name", "cluster_id", "cluster_name",
                "cluster_type", "state", "maintenance_mode_active"} <= set(item)
        assert item["state"] in ("DEGRADED", "FAILURE")
    assert set(listed.json["last_updated"]) == {c.url for c in api.estate}
    hosts = api.post("/proxy/clusters/hosts", {"filters": [
        {"key": "hoststatus", "values": ["CmonHostOffline", "CmonHostShutDown",
                                         "CmonHostFailed"]}]})
    for host in hosts.json["hosts"]:
        assert {"controller_id", "controller_url", "class_name", "clusterid", "hostId",
                "unique_id", "lastseen", "port", "listening_port", "hostname", "hoststatus",
                "role", "nodetype", "ip", "rw_port", "ro_port", "uptime", "ssl_certs",
                "service_started"} <= set(host)
        assert host["hoststatus"] in ("CmonHostShutDown", "CmonHostFailed")
        assert set(host["ssl_certs"]) == {"replication", "server"}


def test_alarm_job_backup_examples(api):
    alarms = api.get("/proxy/alarms/status")
    assert {"alarms_count", "alarm_types", "by_controller"} <= set(alarms.json)
    listed = api.post("/proxy/alarms/list", {"filters": [
        {"key": "severity_name", "value": "ALARM_WARNING"}]})
    for alarm in listed.json["alarms"]:
        assert {"controller_id", "controller_url", "alarm_id", "cluster_id", "component_name",
                "created", "hostname", "title", "message", "recommendation",
                "severity_name", "type_name"} <= set(alarm)
    jobs = api.post("/proxy/jobs/status", {"filters": []})
    assert {"job_count", "job_commands", "by_controller", "by_cluster_type"} <= set(jobs.json)
    for per_ctl in jobs.json["by_controller"].values():
        assert set(per_ctl) == {"job_count", "job_commands"}
    job_list = api.post("/proxy/jobs/list", "")  # the README's curl sends no body: 400 EOF
    assert job_list.status_code == 400
    job_list = api.get("/proxy/jobs/list")
    for job in job_list.json["jobs"]:
        assert {"controller_id", "controller_url", "class_name", "created", "ended",
                "job_id", "started", "status", "title", "has_progress",
                "progress_percent"} <= set(job)
        assert set(job["job_spec"]) == {"command", "job_data"}
        assert isinstance(job["progress_percent"], int | float)  # a number, kept as sent
    backups = api.post("/proxy/backups/status", {})
    assert {"backups_count", "by_controller"} <= set(backups.json)
    for per_ctl in backups.json["by_controller"].values():
        assert {"backups_count", "missing_schedules", "schedules_count"} <= set(per_ctl)
    for path, items in (("/proxy/backups/schedules", "jobs"), ("/proxy/backups/list",
                                                               "backups")):
        broken = api.post(path, '{"{filters":[{"cluster_id": 234}]}')
        assert broken.status_code == 400
        assert broken.json == {"type": "InvalidRequest",
                               "message": 'Invalid request:unknown field "{filters"'}
        fixed = api.post(path, {"filters": [{"key": "cluster_id", "value": "2"}]})
        assert fixed.status_code == 200
        assert {"last_updated", items} <= set(fixed.json)
    assert "total" in api.post("/proxy/backups/list", {}).json
