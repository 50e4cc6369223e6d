"""The simulator answers like the reference (cmon-rpc-v2.md) says a controller does."""

from __future__ import annotations

import json
import re

import pytest
from cmonsim import records

from .conftest import ENVELOPE_ALWAYS, Client, raw_exchange

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# One request per implemented operation, as cmon-proxy / s9s send them.
OPERATIONS = [
    ("clusters", {"operation": "ping", "cluster_id": 0}),
    ("clusters", {"operation": "getAllClusterInfo", "with_hosts": True,
                  "with_license_check": True, "with_tags": True}),
    ("clusters", {"operation": "getClusterInfo", "cluster_id": 1, "with_hosts": True}),
    ("alarm", {"operation": "getAlarms", "cluster_id": 1}),
    ("alarm", {"operation": "getStatistics"}),
    ("jobs", {"operation": "getJobInstances", "cluster_ids": [1, 2], "limit": 32, "offset": 0}),
    ("jobs", {"operation": "getJobInstances", "show_scheduled": True}),
    ("backup", {"operation": "getBackups", "limit": 32, "offset": 0, "ascending": False,
                "parent_id": 0, "backup_record_version": 2}),
    ("backup", {"operation": "getBackupSchedules", "cluster_id": 1}),
    ("log", {"operation": "getLogEntries", "cluster_id": 1, "limit": 100, "offset": 0}),
    ("audit", {"operation": "getEntries", "cluster_id": 1, "limit": 100, "offset": 0}),
    ("poolcontrollers", {"operation": "listcontrollers"}),
    ("users", {"operation": "whoAmI"}),
    ("info", {"operation": "ping"}),
]
LIST_TOTALS = {"getallclusterinfo", "getjobinstances", "getbackups", "getlogentries",
               "getentries", "listcontrollers", "getbackupschedules"}


@pytest.fixture
def estate(cmon_estate):
    return cmon_estate(controllers=1, clusters=4, hosts=3, seed=11)


@pytest.mark.parametrize(("module", "body"), OPERATIONS, ids=[
    f"{m}-{b['operation']}{'-sched' if b.get('show_scheduled') else ''}" for m, b in OPERATIONS])
def test_every_operation_answers_ok_in_the_envelope(estate, client_for, module, body):
    ctl = estate[0]
    client = client_for(ctl)
    sent = {**body, "request_id": 42, "request_created": "2025-05-02T08:00:00.000Z"}
    resp = client.post(module, sent)
    assert resp.status_code == 200
    assert resp.headers["Server"] == f"cmon/{ctl.version}"
    assert resp.headers["Content-Type"] == "application/json"
    reply = resp.json()
    for key in ENVELOPE_ALWAYS:
        assert key in reply
    assert reply["request_status"] == "Ok"
    assert "error_string" not in reply
    assert reply["controller_id"] == ctl.controller_id
    assert reply["request_id"] == 42
    assert reply["request_created"] == "2025-05-02T08:00:00.000Z"
    assert ISO_MS.match(reply["request_processed"])
    assert "reply_received" not in reply
    if module != "info":
        assert reply["request_user_id"] == 5
        assert reply["debug_messages"] == ["RPC V2 authenticated user is 'ccadmin'."]
    assert ("total" in reply) == (body["operation"].lower() in LIST_TOTALS)


def test_errors_carry_error_string_and_echo(estate, client_for):
    client = client_for(estate[0])
    reply = client.call("clusters", "noSuchOperation", request_id=7)
    assert reply["request_status"] == "InvalidRequest"
    assert reply["error_string"] == "Invalid operation 'noSuchOperation' on '/v2/clusters'."
    assert reply["request_operation"] == "noSuchOperation"
    assert reply["request_path"] == ["v2", "clusters"]
    assert reply["request_id"] == 7
    for key in ENVELOPE_ALWAYS:
        assert key in reply


def test_unknown_module_is_an_invalid_request(estate, client_for):
    reply = client_for(estate[0]).call("nosuchmodule", "getStuff")
    assert reply["request_status"] == "InvalidRequest"
    assert reply["error_string"] == "Invalid operation 'getStuff' on '/v2/nosuchmodule'."


def test_bare_v2_is_treated_as_info(estate):
    client = Client(estate[0])
    resp = client.session.post(estate[0].https_url + "/v2", data=b"{}", timeout=5)
    reply = resp.json()
    assert reply["request_status"] == "InvalidRequest"
    assert reply["error_string"] == "Invalid operation '' on '/v2/info'."
    assert reply["request_path"] == ["v2"]


def test_malformed_json_body_is_an_invalid_request(estate, client_for):
    resp = client_for(estate[0]).post("clusters", data=b"{not json")
    assert resp.status_code == 200
    reply = resp.json()
    assert reply["request_status"] == "InvalidRequest"
    assert reply["error_string"]


def test_paths_outside_v2_answer_404_json(estate, client_for):
    client = client_for(estate[0])
    resp = client.session.post(estate[0].https_url + "/index.html", data=b"{}", timeout=5)
    assert resp.status_code == 404
    assert resp.json()["request_status"] == "InvalidRequest"


def test_operation_names_are_case_insensitive_and_trailing_slash_is_tolerated(estate,
                                                                              client_for):
    client = client_for(estate[0])
    for op in ("getAllClusterInfo", "getallclusterinfo", "GETALLCLUSTERINFO"):
        resp = client.session.post(estate[0].rpc_url("clusters") + "/",
                                   data=json.dumps({"operation": op}), timeout=5)
        assert resp.json()["request_status"] == "Ok", op


def test_no_content_type_and_expect_continue_do_not_stall(estate, client_for):
    client = client_for(estate[0])
    body = json.dumps({"operation": "ping", "cluster_id": 0}).encode()
    # requests adds no Content-Type for bytes; add Expect as cmon-proxy does.
    resp = client.post("clusters", data=body, headers={"Expect": "100-continue"}, timeout=3)
    assert "Content-Type" not in resp.request.headers
    assert resp.json()["request_status"] == "Ok"


def test_http10_connection_close_gets_one_reply_and_a_close(estate):
    ctl = estate[0]
    body = b'{"operation":"ping"}'
    req = (b"POST /v2/info HTTP/1.0\r\nHost: x\r\nConnection: close\r\n"
           b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
           + b"\r\n\r\n" + body)
    raw = raw_exchange(ctl, req)  # returns only once the server closed the connection
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"Connection: close" in head
    assert json.loads(payload)["request_status"] == "Ok"


def test_keep_alive_serves_several_requests_on_one_connection(estate):
    ctl = estate[0]
    body = b'{"operation":"ping"}'
    one = (b"POST /v2/info HTTP/1.1\r\nHost: x\r\nContent-Length: "
           + str(len(body)).encode() + b"\r\n\r\n" + body)
    last = one.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n")
    raw = raw_exchange(ctl, one + one + last)
    assert raw.count(b"HTTP/1.1 200 OK") == 3
    assert raw.count(b'"request_status":"Ok"') == 3


def test_keep_alive_with_requests_session_reuses_the_connection(estate, client_for):
    client = client_for(estate[0])
    for _ in range(5):
        assert client.call("clusters", "ping", cluster_id=0)["request_status"] == "Ok"
    pool = client.session.get_adapter("https://").poolmanager
    conns = [p for p in pool.pools._container.values()]
    assert sum(p.num_connections for p in conns) == 1


def test_path_prefix_is_served_and_reported_in_the_url(cmon_estate, client_for):
    estate = cmon_estate(controllers=1, clusters=2, hosts=1, prefix="/api/")
    ctl = estate[0]
    assert ctl.url.endswith(f":{ctl.port}/api")
    client = client_for(ctl)
    assert client.call("clusters", "getAllClusterInfo")["total"] == 2
    plain = client.session.post(f"https://{ctl.host}:{ctl.port}/v2/clusters",
                                json={"operation": "ping"}, timeout=5)
    assert plain.status_code == 404


def test_controller_without_clusters_omits_the_clusters_key(cmon_estate, client_for):
    estate = cmon_estate(controllers=2, clusters=[0, 2], hosts=1)
    reply = client_for(estate[0]).call("clusters", "getAllClusterInfo", with_hosts=True)
    assert reply["request_status"] == "Ok"
    assert reply["total"] == 0
    assert "clusters" not in reply
    assert client_for(estate[1]).call("clusters", "getAllClusterInfo")["total"] == 2


def test_every_cluster_lists_exactly_one_controller_host(cmon_estate, client_for):
    estate = cmon_estate(controllers=1, clusters=8, hosts=3, seed=3)
    ctl = estate[0]
    reply = client_for(ctl).call("clusters", "getAllClusterInfo", with_hosts=True)
    for cl in reply["clusters"]:
        controllers = [h for h in cl["hosts"] if h["nodetype"] == "controller"]
        assert len(controllers) == 1
        assert controllers[0]["class_name"] == "CmonHost"
        assert controllers[0]["role"] == "controller"
        assert controllers[0]["version"] == ctl.version
        assert len(cl["hosts"]) == 3 + 1
        assert all(h["clusterid"] == cl["cluster_id"] for h in cl["hosts"])


def test_hosts_are_included_only_with_with_hosts(estate, client_for):
    client = client_for(estate[0])
    without = client.call("clusters", "getAllClusterInfo")
    assert all("hosts" not in c for c in without["clusters"])
    assert "license" not in without
    with_all = client.call("clusters", "getAllClusterInfo", with_hosts=True,
                           with_license_check=True, with_tags=True)
    assert all(c["hosts"] for c in with_all["clusters"])
    assert with_all["license"]["class_name"] == "CmonLicense"
    assert with_all["license_check"]["has_license"] is True


def test_tag_filters_as_s9s_sends_them(cmon_estate, client_for):
    estate = cmon_estate(controllers=1, clusters=12, hosts=1, seed=5)
    client = client_for(estate[0])
    everything = client.call("clusters", "getAllClusterInfo")["clusters"]
    tag = next(t for c in everything for t in c["tags"])
    tagged = client.call("clusters", "getAllClusterInfo", with_tags=[tag])
    assert tagged["total"] == sum(tag in c["tags"] for c in everything)
    untagged = client.call("clusters", "getAllClusterInfo", without_tags=[tag])
    assert untagged["total"] == len(everything) - tagged["total"]


def test_get_cluster_info_by_id_and_name_and_errors(estate, client_for):
    client = client_for(estate[0])
    one = client.call("clusters", "getClusterInfo", cluster_id=2)["cluster"]
    assert one["cluster_id"] == 2
    by_name = client.call("clusters", "getClusterInfo", cluster_name=one["cluster_name"])
    assert by_name["cluster"]["cluster_id"] == 2
    missing_id = client.call("clusters", "getClusterInfo", cluster_id=99)
    assert (missing_id["request_status"], missing_id["error_string"]) == (
        "InvalidRequest", "Cluster was not found.")
    missing_name = client.call("clusters", "getClusterInfo", cluster_name="nope")
    assert missing_name["request_status"] == "ObjectNotFound"


def test_alarms_of_an_unknown_cluster_are_object_not_found(estate, client_for):
    reply = client_for(estate[0]).call("alarm", "getAlarms", cluster_id=77)
    assert (reply["request_status"], reply["error_string"]) == (
        "ObjectNotFound", "Cluster was not found.")


def test_pool_controllers_list_is_empty(estate, client_for):
    reply = client_for(estate[0]).call("poolcontrollers", "listControllers")
    assert reply["controllers"] == [] and reply["total"] == 0


def test_info_ping_needs_no_login_and_names_the_controller(estate):
    ctl = estate[0]
    reply = Client(ctl).call("info", "ping")
    assert reply["request_status"] == "Ok"
    assert reply["controller_id"] == ctl.controller_id
    assert reply["pool_id"]
    assert reply["package_name"] == "cmon"
    assert reply["package_version"] == ctl.version


def test_cluster_ping_reports_version_and_unknown_configuration(estate, client_for):
    client = client_for(estate[0])
    reply = client.call("clusters", "ping", cluster_id=0)
    assert reply["package_version"] == estate[0].version
    assert reply["package_name"] == "cmon"
    bad = client.call("clusters", "ping", cluster_id=55)
    assert (bad["request_status"], bad["error_string"]) == (
        "InvalidRequest", "Configuration 55 was not found.")


def _walk_enums(cl: dict) -> None:
    assert cl["cluster_type"] in records.CLUSTER_TYPES
    assert cl["state"] in records.CLUSTER_STATES
    for h in cl["hosts"]:
        assert h["class_name"] in records.HOST_CLASSES
        assert h["nodetype"] in records.NODE_TYPES
        assert h["role"] in records.HOST_ROLES
        assert h["hoststatus"] in records.HOST_STATUSES


def test_enum_values_come_only_from_the_reference_sets(cmon_estate, client_for):
    estate = cmon_estate(controllers=2, clusters=15, hosts=4, seed=21)
    for ctl in estate:
        client = client_for(ctl)
        for cl in client.call("clusters", "getAllClusterInfo", with_hosts=True)["clusters"]:
            _walk_enums(cl)
        for a in client.call("alarm", "getAlarms")["alarms"]:
            assert a["severity_name"] in records.ALARM_SEVERITIES
            assert a["severity"] == records.ALARM_SEVERITIES[a["severity_name"]]
            assert a["component_name"] in records.ALARM_COMPONENTS
            assert a["type_name"] in records.ALARM_TYPES
            assert a["ignored"] in (0, 1)
        jobs = client.call("jobs", "getJobInstances")["jobs"]
        jobs += client.call("jobs", "getJobInstances", show_scheduled=True)["jobs"]
        for j in jobs:
            assert j["status"] in records.JOB_STATUSES
            spec = j["job_spec"]
            if isinstance(spec, str) and spec.startswith("{"):
                spec = json.loads(spec)
            if isinstance(spec, dict):
                assert spec["command"] in records.JOB_COMMANDS
        for b in client.call("backup", "getBackups", backup_record_version=2)["backup_records"]:
            md = b["metadata"]
            assert md["status"] in records.BACKUP_STATUSES
            assert md["method"] in records.BACKUP_METHODS
            assert md["verified"]["status"] in records.BACKUP_VERIFIED
        for e in client.call("log", "getLogEntries")["log_entries"]:
            assert e["severity"] in records.LOG_SEVERITIES
            assert e["log_class"] in records.LOG_CLASSES


def test_backups_v1_layout_is_flat_and_v2_has_metadata(estate, client_for):
    client = client_for(estate[0])
    v2 = client.call("backup", "getBackups", backup_record_version=2, limit=3)
    v1 = client.call("backup", "getBackups", limit=3)
    assert v2["backup_records"] and v1["backup_records"]
    for rec in v2["backup_records"]:
        assert rec["version"] == 2
        assert {"id", "cid", "status", "method", "created"} <= set(rec["metadata"])
        assert rec["host_locations"][0]["type"] == "host"
    for rec in v1["backup_records"]:
        assert rec["version"] == 1 and "metadata" not in rec
        assert {"id", "cid", "job_id", "status", "method"} <= set(rec)


def test_chunked_request_body_is_read(estate):
    body = b'{"operation":"ping"}'
    req = (b"POST /v2/info HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           b"Connection: close\r\n\r\n" + f"{len(body):x}\r\n".encode() + body
           + b"\r\n0\r\n\r\n")
    head, _, payload = raw_exchange(estate[0], req).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(payload)["request_status"] == "Ok"


def test_garbage_request_line_gets_400_and_close(estate):
    raw = raw_exchange(estate[0], b"NONSENSE\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 400")
    assert b"Connection: close" in raw
