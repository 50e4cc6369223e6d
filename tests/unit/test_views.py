"""Pure views on small hand-made data: every aggregate key and quirk of spec §4."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ccmgr.cmon import records
from ccmgr.cmon.model import ControllerData
from ccmgr.config.model import Instance
from ccmgr.views import alarms, backups, clusters, jobs, logs
from ccmgr.views.controllers import controller_status
from ccmgr.views.listrequest import Filter, ListRequest
from testkit import as_sent

WHEN = datetime(2024, 7, 11, 10, 0, 0, tzinfo=UTC)


def host(hid, status="CmonHostOnline", nodetype="galera", port=3306):
    return {"class_name": "CmonHost", "hostId": hid, "hoststatus": status,
            "nodetype": nodetype, "port": str(port), "hostname": f"10.0.0.{hid}",
            "clusterid": 1, "unknown_key": "dropped"}


CTRL = host(9, nodetype="controller", port=9500)


def cluster(cid, state="STARTED", ctype="GALERA", tags=(), hosts=None):
    return records.light_cluster({"class_name": "CmonClusterInfo", "cluster_id": cid,
                            "cluster_name": f"c{cid}", "cluster_type": ctype, "state": state,
                            "tags": list(tags), "hosts": [CTRL, *(hosts or [])]})


def ctl(xid="x1", url="h1:9501", clusters_=(), **data) -> ControllerData:
    payloads = {"clusters": {"clusters": list(clusters_), "processed": "2024-07-11T09:59:00Z",
                             "license": None, "license_check": None}}
    payloads.update(data)
    return ControllerData(xid=xid, url=url, controller_id=f"cid-{xid}", data=payloads,
                          fetched={k: WHEN for k in payloads})


A = ctl("x1", "h1:9501", [cluster(1, hosts=[host(1), host(2, "CmonHostOffLine")],
                                  tags=("prod", "eu")),
                          cluster(2, "DEGRADED", "REPLICATION", ("prod",),
                                  hosts=[host(3, nodetype="mysql")])])
B = ctl("x2", "h2:9501", [cluster(1, "FAILURE", hosts=[])])
NEVER = ControllerData(xid="x3", url="h3:9501")  # never delivered a cluster list


# -- records -------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "expected"), [
    ("2020-12-17T13:32:41.000Z", "2020-12-17T13:32:41Z"),
    ("2020-12-17T13:32:41+02:00", "2020-12-17T13:32:41+02:00"),
    ("null", ""), (None, ""), ("", ""), ("garbage", ""), ("0001-01-01T00:00:00Z", ""),
])
def test_times_are_second_precision_or_empty(raw, expected):
    assert records.norm_time(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ({}, 0), (None, 0), (123, 123), ("124", 124), (125.6, 125.6), ("126.7", 126.7), ("0", 0),
    ("x", 0), (97.5, 97.5),  # kept as sent, as cmon-proxy v2.2 does (issue 13 item 7)
])
def test_progress_percent_like_cmon_proxy(raw, expected):
    job = records.job({"job_id": 1, "progress_percent": raw})
    assert job["progress_percent"] == expected


def test_job_spec_object_string_and_text():
    assert records.job_spec({"command": "backup", "job_data": {"a": 1}}) == {
        "command": "backup", "job_data": {"a": 1}}
    assert records.job_spec('{"command": "restart"}') == {"command": "restart", "job_data": None}
    assert records.job_spec("Galera Node Recovery") == {"command": "Galera Node Recovery",
                                                         "job_data": None}


def test_job_keys_omitempty_and_groups():
    job = records.job({"job_id": 7, "cluster_id": 0, "user_id": 3, "created": "null",
                       "status": "FINISHED"})
    assert "cluster_id" not in job and "owner_user_id" not in job
    assert job["user_id"] == 3 and job["user_name"] == ""
    assert job["created"] == "" and job["ended"] == "" and job["started"] == ""
    assert job["has_progress"] is False and job["progress_percent"] == 0


def test_host_numbers_from_strings_and_unknown_keys_dropped():
    h = records.host({"port": "5432", "clusterid": "3", "zzz": 1})
    assert (h["port"], h["clusterid"]) == (5432, 3) and "zzz" not in h
    assert h["ssl_certs"] == {"replication": None, "server": None}


# -- clusters ------------------------------------------------------------------------------
def test_clusters_status_keys_and_quirks():
    body = clusters.clusters_status([A, B, NEVER], ())
    assert body["cluster_states"] == {"STARTED": 1, "DEGRADED": 1, "FAILURE": 1}
    assert body["node_states"] == {"CmonHostOnline": 2, "CmonHostOffLine": 1}
    assert body["clusters_count"] == {"h1:9501": 2, "h2:9501": 1}
    assert body["nodes_count"] == {"h1:9501": 3, "h2:9501": 0}  # len(hosts) - 1
    assert body["by_controller"]["x1"]["by_cluster"] == {
        "1": {"node_states": {"CmonHostOnline": 1, "CmonHostOffLine": 1}},
        "2": {"node_states": {"CmonHostOnline": 1}}}
    assert body["by_controller"]["x2"] == {"cluster_states": {"FAILURE": 1},
                                           "by_cluster": {"1": {}}}
    assert body["by_cluster_type"]["REPLICATION"]["clusters_count"] == {"h1:9501": 1}



def status_one_cluster_at_a_time(controllers, required_tags):
    """ClustersOverview counted cluster by cluster: the rules of §4.2 as plainly as they
    read, against which the view's per-controller pass is checked."""
    body: dict = {}
    for c in controllers:
        for cl in c.clusters() or ():
            if required_tags and not set(required_tags) <= set(cl["tags"]):
                continue
            kind = body.setdefault("by_cluster_type", {}).setdefault(cl["cluster_type"], {})
            mine = body.setdefault("by_controller", {}).setdefault(c.xid, {})
            for where in (body, kind, mine):
                states = where.setdefault("cluster_states", {})
                states[cl["state"]] = states.get(cl["state"], 0) + 1
            for where in (body, kind):
                for key, n in (("clusters_count", 1), ("nodes_count", cl["nodes"] - 1)):
                    counts = where.setdefault(key, {})
                    counts[c.url] = counts.get(c.url, 0) + n
            for where in (body, kind, mine):
                for status, n in cl["node_states"].items():
                    counts = where.setdefault("node_states", {})
                    counts[status] = counts.get(status, 0) + n
            mine.setdefault("by_cluster", {})[str(cl["cluster_id"])] = (
                {"node_states": dict(cl["node_states"])} if cl["node_states"] else {})
    return body


def test_clusters_status_equals_a_count_cluster_by_cluster_on_random_estates():
    import random

    rnd = random.Random(17)
    for _ in range(300):
        estate = []
        for i in range(rnd.randint(0, 7)):
            found = [cluster(j + 1, state=rnd.choice(["STARTED", "DEGRADED", "FAILURE"]),
                             ctype=rnd.choice(["GALERA", "REPLICATION", "MONGODB"]),
                             tags=rnd.sample(["a", "b", "c"], rnd.randint(0, 3)),
                             hosts=[host(h, status=rnd.choice(["CmonHostOnline",
                                                               "CmonHostOffLine"]))
                                    for h in range(rnd.randint(0, 4))] +
                             ([CTRL] if rnd.random() < 0.7 else []))
                     for j in range(rnd.randint(0, 5))]
            estate.append(ControllerData(
                xid=f"x{i}", url=f"h{i % 3}:9501",  # shared urls sum, as in cmon-proxy
                data={"clusters": {"clusters": found}} if rnd.random() < 0.9 else {}))
        tags = rnd.choice([(), ("a",), ("a", "b")])
        filters = (Filter(key="tags", matchall=tags),) if tags else ()
        expected = status_one_cluster_at_a_time(estate, tags)
        got = clusters.clusters_status(estate, filters)
        assert got == expected, (estate, tags)
        for key in ("cluster_states", "node_states", "clusters_count", "nodes_count"):
            # Counters in first-seen order, as cmon-proxy's maps come out.
            assert list(got.get(key, {})) == list(expected.get(key, {})), key

def test_clusters_status_tags_and_empty_reply():
    body = clusters.clusters_status([A, B], (Filter("tags", matchall=("prod", "eu")),))
    assert body["cluster_states"] == {"STARTED": 1}
    assert clusters.clusters_status([A], (Filter("tags", matchall=("nope",)),)) == {}
    assert clusters.clusters_status([], ()) == {}


def test_clusters_list_default_key_order_desc_and_with_hosts():
    body = as_sent(clusters.clusters_list([B, A], ListRequest(order=" desc")))
    assert [i["Key"] for i in body["clusters"]] == ["x2-1", "x1-2", "x1-1"]
    assert body["last_updated"] == {"h2:9501": "2024-07-11T09:59:00Z",
                                    "h1:9501": "2024-07-11T09:59:00Z"}
    with_hosts = as_sent(clusters.clusters_list([A], ListRequest(with_hosts=True)))["clusters"][0]
    assert [h["hostId"] for h in with_hosts["hosts"]] == [1, 2]
    assert with_hosts["hosts"][0]["port"] == 3306 and "unknown_key" not in with_hosts["hosts"][0]
    assert list(with_hosts)[:7] == ["xid", "controller_id", "controller_url", "class_name",
                                    "cluster_id", "cluster_name", "cluster_type"]
    assert list(with_hosts)[7] == "hosts" and "_raw" not in with_hosts


def test_clusters_hosts_excludes_controller_and_filters_clusterid():
    body = clusters.clusters_hosts([A, B], ListRequest(filters=(Filter("clusterid", "2"),)))
    assert [h["hostId"] for h in body["hosts"]] == [3]
    assert body["hosts"][0]["xid"] == "x1" and "_raw" not in body["hosts"][0]
    by_port = clusters.clusters_hosts([A, B], ListRequest(filters=(Filter("port", "3306"),
                                                                   Filter("port", "1"))))
    assert [h["hostId"] for h in by_port["hosts"]] == [1, 2, 3]
    tagged = clusters.clusters_hosts([A, B], ListRequest(filters=(
        Filter("tags", matchall=("eu", "prod")),)))
    assert [h["hostId"] for h in tagged["hosts"]] == [1, 2]


def test_missing_schedules_skips_unknown_schedules():
    a = ctl("x1", "h1:9501", A.clusters(), backups={"backups": [], "schedules": [
        records.job({"job_id": 5, "cluster_id": 1, "job_spec": {"command": "backup"}})]})
    body = clusters.missing_schedules([a, B], ListRequest())
    assert [(i["xid"], i["cluster_id"], i["controller_url"]) for i in body["clusters"]] == [
        ("x1", 2, "")]


# -- alarms --------------------------------------------------------------------------------
def alarm(aid, cid, sev="ALARM_WARNING", typ="HostCpuUsage", ignored=0):
    return records.alarm({"alarm_id": aid, "cluster_id": cid, "severity_name": sev,
                          "type_name": typ, "ignored": ignored,
                          "created": f"2024-07-11T09:0{aid}:00.000Z"})


def test_alarms_status_xid_and_url_keys():
    a = ctl("x1", "h1:9501", A.clusters(), alarms={
        "items": [alarm(1, 1), alarm(2, 1, "ALARM_CRITICAL", "HostUnreachable", 1)],
        "clusters": [1, 2], "processed": ""})
    body = alarms.alarms_status([a, B], ())
    assert body["alarms_count"] == {"ALARM_WARNING": 1, "ALARM_CRITICAL": 1}
    assert body["by_controller"]["x1"] is body["by_controller"]["h1:9501"]
    assert body["by_controller"]["x1"]["by_cluster"]["2"] == {"alarms_count": {},
                                                             "alarm_types": {}}
    assert body["by_controller"]["x2"] == {"alarms_count": {}, "alarm_types": {}}
    galera = body["by_cluster_type"]["GALERA"]["by_controller"]
    assert galera["x1"] is galera["h1:9501"]
    assert "h1:9501" not in body["by_cluster_type"]["REPLICATION"]["by_controller"]
    ignored = alarms.alarms_status([a], (Filter("ignored", "0"),))
    assert ignored["alarms_count"] == {"ALARM_WARNING": 1}


def test_alarms_list_filters_and_order():
    a = ctl("x1", "h1:9501", A.clusters(), alarms={
        "items": [alarm(1, 1), alarm(2, 2, "ALARM_CRITICAL")], "clusters": [1, 2],
        "processed": "2024-07-11T09:59:59Z"})
    body = alarms.alarms_list([a], ListRequest(order="created desc"))
    assert [i["alarm_id"] for i in body["alarms"]] == [2, 1]
    assert body["last_updated"] == {"h1:9501": "2024-07-11T09:59:59Z"}
    tagged = alarms.alarms_list([a], ListRequest(filters=(Filter("tags", matchall=("eu",)),)))
    assert [i["alarm_id"] for i in tagged["alarms"]] == [1]
    typed = alarms.alarms_list([a], ListRequest(filters=(Filter("cluster_type",
                                                                "REPLICATION"),)))
    assert [i["alarm_id"] for i in typed["alarms"]] == [2]


# -- jobs ----------------------------------------------------------------------------------
def job(jid, cid, status="FINISHED", command="backup", created="2024-07-11T09:00:00Z"):
    return records.job({"job_id": jid, "cluster_id": cid, "status": status,
                        "job_spec": {"command": command}, "created": created})


def test_jobs_status_keyed_by_url_and_list_newest_first():
    a = ctl("x1", "h1:9501", A.clusters(), jobs={"jobs": [
        job(3, 1, created="2024-07-11T08:00:00Z"), job(4, 2, "FAILED", "restart",
                                                       "2024-07-11T09:30:00Z"), job(5, 0)]})
    status = jobs.jobs_status([a, B], ())
    assert status["job_count"] == {"FINISHED": 2, "FAILED": 1}
    assert status["by_controller"] == {
        "h1:9501": {"job_count": {"FINISHED": 2, "FAILED": 1},
                    "job_commands": {"backup": 2, "restart": 1}},
        "h2:9501": {"job_count": {}, "job_commands": {}}}
    assert set(status["by_cluster_type"]) == {"GALERA", "REPLICATION", ""}
    listed = jobs.jobs_list([a], ListRequest(order="nothing asc"))
    assert [j["job_id"] for j in listed["jobs"]] == [4, 5, 3]
    assert listed["last_updated"] == {"h1:9501": "2024-07-11T10:00:00Z"}
    by_command = jobs.jobs_list([a], ListRequest(filters=(Filter("job_command", "restart"),)))
    assert [j["job_id"] for j in by_command["jobs"]] == [4]


# -- backups -------------------------------------------------------------------------------
def backup(bid, cid, status="Completed", created="2024-07-11T09:00:00Z"):
    return records.backup({"metadata": {"id": bid, "cid": cid, "status": status,
                                        "method": "xtrabackupfull", "created": created}})


def test_backups_status_counts_and_schedules():
    a = ctl("x1", "h1:9501", A.clusters(), backups={
        "backups": [backup(1, 1), backup(2, 2, "Failed")],
        "schedules": [job(9, 1), job(10, 1), job(11, 99)]})
    body = backups.backups_status([a, B, NEVER], ())
    assert body["backups_count"] == {"Completed": 1, "Failed": 1}
    assert (body["missing_schedules"], body["schedules_count"]) == (1, 2)
    assert body["by_cluster_type"]["GALERA"] == {"backups_count": {"Completed": 1},
                                                 "missing_schedules": 0, "schedules_count": 2}
    assert body["by_controller"]["h1:9501"]["missing_schedules"] == 1
    assert body["by_controller"]["h3:9501"] == {"backups_count": {}, "missing_schedules": 0,
                                                "schedules_count": 0}


def test_backups_list_key_and_filters():
    a = ctl("x1", "h1:9501", A.clusters(), backups={
        "backups": [backup(1, 1, created="2024-07-10T00:00:00Z"), backup(2, 2)],
        "schedules": [job(9, 1)]})
    body = backups.backups_list([a], ListRequest())
    assert [b["Key"] for b in body["backups"]] == ["x1-2", "x1-1"]
    only = backups.backups_list([a], ListRequest(filters=(Filter("xid_cid", "x1-1"),)))
    assert [b["metadata"]["id"] for b in only["backups"]] == [1]
    sched = backups.backup_schedules([a], ListRequest(filters=(Filter("job_id", "9"),)))
    assert [j["job_id"] for j in sched["jobs"]] == [9]


# -- logs, audit, controllers --------------------------------------------------------------
def test_logs_and_audit_lists():
    entry = records.log_entry({"log_id": 1, "created": "2024-07-11T09:00:00.123Z",
                               "log_specifics": {"cluster_id": 2, "message_text": "m"},
                               "log_origins": {"sender_line": 5}})
    assert entry["log_origins"]["sender_line"] == 0
    a = ctl("x1", "h1:9501", A.clusters(), logs={"items": [entry], "processed": ""},
            audit={"items": [records.audit_entry({"cluster_id": 1, "report_ts": "null"})],
                   "processed": ""})
    assert logs.logs_list([a], ListRequest(filters=(Filter("cluster_id", "1"),)))["logs"] == []
    audit = logs.audit_list([a], ListRequest())
    assert audit["entries"][0]["report_ts"] == "" and audit["last_updated"] == {}


class Failure:
    def __init__(self, message, auth=False):
        self.message, self.auth = message, auth


def test_controller_status_objects():
    record = {"xid": "x1", "name": "n", "url": "h:1", "frontend_url": "https://ui"}
    inst = Instance.parse(record)
    ok = controller_status(inst, now=WHEN, version="2.1", controller_id="c")
    assert ok["status"] == "ok" and ok["last_seen"] == ok["last_updated"] == "2024-07-11T10:00:00Z"
    assert ok["frontend_url"] == "https://ui" and ok["license"] is None
    failed = controller_status(inst, now=WHEN, failure=Failure("boom"), last_seen=None)
    assert (failed["status"], failed["status_message"], failed["last_seen"]) == (
        "failed", "boom", "")
    auth = controller_status(Instance.parse({**record, "useldap": True}), now=WHEN,
                             failure=Failure("AccessDenied: no", auth=True))
    assert (auth["status"], auth["status_message"]) == ("authentication-error",
                                                        "LDAP: AccessDenied: no")
    ldap_ok = controller_status(Instance.parse({**record, "useldap": True}), now=WHEN)
    assert ldap_ok["status_message"] == "LDAP authentication ok."
    degraded = controller_status(inst, now=WHEN, data_failures={"alarms": Failure("x")})
    assert (degraded["status"], degraded["status_message"]) == ("ok", "alarms: x")
