"""Generated estates are deterministic, self-consistent and big enough (issue 3, item 3)."""

from __future__ import annotations

import json

from cmonsim.estate import EstateSpec, derive_state, generate_estate

NOW = 1_767_225_600.0

ONLINE = "CmonHostOnline"


def _strip_envelope(reply: dict) -> dict:
    return {k: v for k, v in reply.items() if k not in ("request_processed",)}


def _fetch_all(client) -> dict:
    out = {}
    out["clusters"] = client.call("clusters", "getAllClusterInfo", with_hosts=True,
                                  with_license_check=True)
    out["alarms"] = client.call("alarm", "getAlarms")
    out["jobs"] = client.call("jobs", "getJobInstances")
    out["schedules"] = client.call("jobs", "getJobInstances", show_scheduled=True)
    out["backups"] = client.call("backup", "getBackups", backup_record_version=2)
    out["logs"] = client.call("log", "getLogEntries")
    return {k: _strip_envelope(v) for k, v in out.items()}


def test_same_seed_gives_the_same_data_over_the_wire(cmon_estate, client_for):
    a = cmon_estate(controllers=2, clusters=6, hosts=3, seed=99, now=NOW)
    b = cmon_estate(controllers=2, clusters=6, hosts=3, seed=99, now=NOW)
    for ca, cb in zip(a, b, strict=True):
        assert ca.controller_id == cb.controller_id
        assert ca.password == cb.password
        assert _fetch_all(client_for(ca)) == _fetch_all(client_for(cb))


def test_different_seed_gives_different_data(cmon_estate, client_for):
    a = cmon_estate(controllers=1, clusters=6, hosts=3, seed=1, now=NOW)[0]
    b = cmon_estate(controllers=1, clusters=6, hosts=3, seed=2, now=NOW)[0]
    assert a.controller_id != b.controller_id
    assert _fetch_all(client_for(a))["clusters"] != _fetch_all(client_for(b))["clusters"]


def test_a_controller_does_not_depend_on_estate_size():
    small = generate_estate(EstateSpec(controllers=1, clusters=4, hosts=2, seed=5, now=NOW))
    big = generate_estate(EstateSpec(controllers=3, clusters=4, hosts=2, seed=5, now=NOW))
    assert json.dumps(small[0].clusters) == json.dumps(big[0].clusters)


def test_cluster_ids_restart_at_one_on_every_controller(cmon_estate, client_for):
    estate = cmon_estate(controllers=3, clusters=4, hosts=1, seed=8)
    for ctl in estate:
        clusters = client_for(ctl).call("clusters", "getAllClusterInfo")["clusters"]
        assert [c["cluster_id"] for c in clusters] == [1, 2, 3, 4]


def test_cluster_state_follows_its_database_hosts(cmon_estate, client_for):
    estate = cmon_estate(controllers=3, clusters=12, hosts=3, seed=13)
    seen_states = set()
    for ctl in estate:
        reply = client_for(ctl).call("clusters", "getAllClusterInfo", with_hosts=True)
        for cl in reply["clusters"]:
            db = [h["hoststatus"] for h in cl["hosts"] if h["nodetype"] != "controller"]
            online = db.count(ONLINE)
            state = cl["state"]
            seen_states.add(state)
            if state == "STARTED":
                assert online == len(db)
            elif state == "DEGRADED":
                assert 0 < online < len(db)
            elif state == "FAILURE":
                assert online == 0
            elif state == "STOPPED":
                assert set(db) == {"CmonHostShutDown"}
            elif state == "RECOVERING":
                assert "CmonHostRecovery" in db
            assert state == derive_state(db)
    assert {"STARTED", "DEGRADED", "FAILURE"} <= seen_states


def test_host_statuses_and_alarm_severities_cover_the_reference(cmon_estate, client_for):
    estate = cmon_estate(controllers=4, clusters=15, hosts=3, seed=2)
    statuses, severities, types = set(), set(), set()
    for ctl in estate:
        client = client_for(ctl)
        for cl in client.call("clusters", "getAllClusterInfo", with_hosts=True)["clusters"]:
            types.add(cl["cluster_type"])
            statuses |= {h["hoststatus"] for h in cl["hosts"]}
        severities |= {a["severity_name"] for a in client.call("alarm", "getAlarms")["alarms"]}
    assert statuses == {"CmonHostOnline", "CmonHostOffLine", "CmonHostFailed",
                        "CmonHostRecovery", "CmonHostShutDown", "CmonHostUnknown"}
    assert severities == {"ALARM_WARNING", "ALARM_CRITICAL"}
    assert len(types) >= 6


def test_failed_hosts_raise_host_unreachable_and_statistics_match(cmon_estate, client_for):
    ctl = cmon_estate(controllers=1, clusters=10, hosts=3, seed=6)[0]
    client = client_for(ctl)
    clusters = client.call("clusters", "getAllClusterInfo", with_hosts=True)["clusters"]
    alarms = client.call("alarm", "getAlarms")["alarms"]
    for cl in clusters:
        mine = [a for a in alarms if a["cluster_id"] == cl["cluster_id"]]
        for h in cl["hosts"]:
            if h["hoststatus"] in ("CmonHostFailed", "CmonHostOffLine"):
                assert any(a["type_name"] == "HostUnreachable" and a["hostname"] == h["hostname"]
                           and a["severity_name"] == "ALARM_CRITICAL" for a in mine)
        stats = cl["alarm_statistics"]
        live = [a for a in mine if not a["ignored"]]
        assert stats["critical"] == sum(a["severity_name"] == "ALARM_CRITICAL" for a in live)
        assert stats["warning"] == sum(a["severity_name"] == "ALARM_WARNING" for a in live)
        per_cluster = client.call("alarm", "getAlarms", cluster_id=cl["cluster_id"])
        assert per_cluster["alarms"] == mine


def test_every_backup_points_at_a_backup_job_of_its_cluster(cmon_estate, client_for):
    ctl = cmon_estate(controllers=1, clusters=10, hosts=2, seed=9)[0]
    client = client_for(ctl)
    jobs = {j["job_id"]: j for j in client.call("jobs", "getJobInstances")["jobs"]}
    schedules = {j["job_id"]: j for j in
                 client.call("jobs", "getJobInstances", show_scheduled=True)["jobs"]}
    records = client.call("backup", "getBackups", backup_record_version=2)["backup_records"]
    assert records
    status_of = {"Completed": "FINISHED", "Failed": "FAILED", "Running": "RUNNING",
                 "Pending": "DEFINED"}
    for rec in records:
        md = rec["metadata"]
        job = jobs[md["job_id"]]
        assert job["job_spec"]["command"] == "backup"
        assert job["job_spec"]["job_data"]["backup_method"] == md["method"]
        assert job["cluster_id"] == md["cid"]
        assert job["status"] == status_of[md["status"]]
        if "parent_job_id" in job:  # spawned by a schedule of the same cluster
            assert schedules[job["parent_job_id"]]["cluster_id"] == md["cid"]


def test_some_cluster_has_no_backup_schedule(cmon_estate, client_for):
    estate = cmon_estate(controllers=3, clusters=5, hosts=1, seed=17)
    for ctl in estate:
        client = client_for(ctl)
        cids = {c["cluster_id"] for c in client.call("clusters", "getAllClusterInfo")["clusters"]}
        scheduled = {j["cluster_id"] for j in
                     client.call("jobs", "getJobInstances", show_scheduled=True)["jobs"]}
        assert scheduled < cids  # proper subset: at least one cluster lacks a schedule
        assert scheduled  # and most have one


def test_backup_methods_match_the_cluster_type(cmon_estate, client_for):
    families = {"GALERA": ("xtrabackup", "mariabackup", "mysqldump"),
                "REPLICATION": ("xtrabackup", "mariabackup", "mysqldump"),
                "GROUP_REPL": ("xtrabackup", "mysqldump"),
                "POSTGRESQL_SINGLE": ("pg_basebackup", "pgdumpall", "pgbackrest"),
                "MONGODB": ("mongodump", "percona-backup-mongodb")}
    ctl = cmon_estate(controllers=1, clusters=12, hosts=1, seed=23)[0]
    client = client_for(ctl)
    types = {c["cluster_id"]: c["cluster_type"]
             for c in client.call("clusters", "getAllClusterInfo")["clusters"]}
    for rec in client.call("backup", "getBackups", backup_record_version=2)["backup_records"]:
        md = rec["metadata"]
        assert md["method"].startswith(families[types[md["cid"]]])


def test_tags_are_lists_and_some_clusters_have_none(cmon_estate, client_for):
    ctl = cmon_estate(controllers=1, clusters=12, hosts=1, seed=3)[0]
    clusters = client_for(ctl).call("clusters", "getAllClusterInfo")["clusters"]
    assert all(isinstance(c["tags"], list) for c in clusters)
    assert any(c["tags"] for c in clusters) and any(not c["tags"] for c in clusters)


def test_fifty_controllers_of_forty_clusters_run_in_one_process(cmon_estate, client_for):
    estate = cmon_estate(controllers=50, clusters=40, hosts=5, seed=1)
    assert len({c.port for c in estate}) == 50
    for ctl in (estate[0], estate[24], estate[49]):
        reply = client_for(ctl).call("clusters", "getAllClusterInfo", with_hosts=True,
                                     with_license_check=True, with_tags=True)
        assert reply["total"] == 40
        assert sum(len(c["hosts"]) for c in reply["clusters"]) == 40 * 6
