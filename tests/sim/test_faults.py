"""Every fault mode is observable from a plain `requests` client (reference §11.4)."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from cmonsim.testing import AdminError

from .conftest import Client

PING = {"operation": "ping", "cluster_id": 0}


@pytest.fixture
def estate(cmon_estate):
    return cmon_estate(controllers=2, clusters=2, hosts=1, seed=1)


def test_refused_closes_the_listener_and_start_reopens_it(estate, client_for):
    ctl = estate[0]
    client = client_for(ctl)  # holds a pooled keep-alive connection
    ctl.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        client.post("clusters", PING)
    with pytest.raises(requests.exceptions.ConnectionError):
        Client(ctl).login()
    assert Client(estate[1]).login().status_code == 200  # the neighbour is unaffected
    ctl.start()
    assert Client(ctl).login().json()["request_status"] == "Ok"


def test_hang_ends_in_a_read_timeout(estate, client_for):
    ctl = estate[0]
    client = client_for(ctl)
    ctl.set_faults(mode="hang")
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.post("clusters", PING, timeout=(2, 0.4))
    assert time.monotonic() - started < 3


def test_reset_is_a_connection_error(estate, client_for):
    ctl = estate[0]
    client = client_for(ctl)
    ctl.set_faults(mode="reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        client.post("clusters", PING)


def test_http500_modes(estate, client_for):
    ctl = estate[0]
    client = client_for(ctl)
    ctl.set_faults(mode="http500")
    resp = client.post("clusters", PING)
    assert resp.status_code == 500
    reply = resp.json()
    assert reply["request_status"] == "UnknownError" and reply["error_string"]
    ctl.set_faults(mode="http500_html")
    resp = client.post("clusters", PING)
    assert resp.status_code == 500 and resp.headers["Content-Type"] == "text/html"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        resp.json()
    ctl.set_faults(mode="http500_empty")
    resp = client.post("clusters", PING)
    assert resp.status_code == 500 and resp.content == b""


def test_bad_json_cannot_be_decoded(estate, client_for):
    ctl = estate[0]
    client = client_for(ctl)
    ctl.set_faults(mode="bad_json")
    resp = client.post("clusters", {"operation": "getAllClusterInfo", "with_hosts": True})
    assert resp.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        resp.json()


def test_empty_json_object_reply(estate, client_for):
    ctl = estate[0]
    client = client_for(ctl)
    ctl.set_faults(mode="empty_json")
    resp = client.post("auth", {"operation": "authenticateWithPassword",
                                "user_name": ctl.username, "password": ctl.password})
    assert resp.status_code == 200
    assert resp.json() == {}
    assert "Set-Cookie" not in resp.headers


def test_tls_failure_is_an_ssl_error(estate):
    ctl = estate[0]
    ctl.set_faults(mode="tls_fail")
    with pytest.raises(requests.exceptions.SSLError):
        Client(ctl).login()
    ctl.clear_faults()
    assert Client(ctl).login().status_code == 200


def test_try_again_status(estate, client_for):
    ctl = estate[0]
    client = client_for(ctl)
    ctl.set_faults(mode="try_again")
    assert client.call("clusters", "ping")["request_status"] == "TryAgain"


def test_fault_can_target_one_module(estate, client_for):
    ctl = estate[0]
    client = client_for(ctl)
    ctl.set_faults(mode="http500", modules=["alarm"])
    assert client.post("alarm", {"operation": "getAlarms", "cluster_id": 1}).status_code == 500
    assert client.post("clusters", {"operation": "getAllClusterInfo"}).status_code == 200


def test_latency_slows_one_controller_only(estate, client_for):
    slow, fast = estate[0], estate[1]
    slow_client, fast_client = client_for(slow), client_for(fast)
    slow.set_faults(latency=0.6)
    result = {}

    def call_slow():
        t = time.monotonic()
        slow_client.post("clusters", PING)
        result["slow"] = time.monotonic() - t

    worker = threading.Thread(target=call_slow)
    worker.start()
    time.sleep(0.05)
    t = time.monotonic()
    assert fast_client.post("clusters", PING).status_code == 200
    result["fast"] = time.monotonic() - t
    worker.join(5)
    assert result["slow"] >= 0.6
    assert result["fast"] < 0.3


def test_hang_does_not_block_other_controllers(estate, client_for):
    hung, fine = estate[0], estate[1]
    hung_client, fine_client = client_for(hung), client_for(fine)
    hung.set_faults(mode="hang")
    outcome = []

    def call_hung():
        try:
            hung_client.post("clusters", PING, timeout=(2, 1.0))
            outcome.append("answered")
        except requests.exceptions.ReadTimeout:
            outcome.append("timeout")

    worker = threading.Thread(target=call_hung)
    worker.start()
    time.sleep(0.05)
    t = time.monotonic()
    assert fine_client.post("clusters", PING).status_code == 200
    assert time.monotonic() - t < 0.3
    worker.join(5)
    assert outcome == ["timeout"]


def test_jitter_varies_latency_within_bounds(estate, client_for):
    ctl = estate[0]
    client = client_for(ctl)
    ctl.set_faults(latency=0.1, jitter=0.05)
    times = []
    for _ in range(5):
        t = time.monotonic()
        client.post("clusters", PING)
        times.append(time.monotonic() - t)
    assert min(times) >= 0.05
    assert max(times) < 0.5


def test_counters_count_per_path_and_operation_and_reset(estate, client_for):
    ctl, other = estate[0], estate[1]
    client = client_for(ctl)
    for _ in range(3):
        client.call("clusters", "getAllClusterInfo", with_hosts=True)
    client.call("alarm", "getAlarms", cluster_id=1)
    client.call("alarm", "GETALARMS", cluster_id=2)
    counters = ctl.counters()
    assert counters[("/v2/auth", "authenticatewithpassword")] == 1
    assert counters[("/v2/clusters", "getallclusterinfo")] == 3
    assert ctl.count("alarm", "getAlarms") == 2
    assert ctl.count("/v2/alarm") == 2
    assert other.counters() == {}
    assert estate.counters()[ctl.name] == counters
    ctl.reset_counters()
    assert ctl.counters() == {}


def test_faulted_requests_are_counted_too(estate, client_for):
    ctl = estate[0]
    client = client_for(ctl)
    ctl.reset_counters()
    ctl.set_faults(mode="http500")
    client.post("clusters", PING)
    assert ctl.count("clusters", "ping") == 1


def test_invalid_fault_settings_are_rejected(estate):
    with pytest.raises(AdminError):
        estate[0].set_faults(mode="explode")
    with pytest.raises(AdminError):
        estate[0].set_faults(latency=-1)
    with pytest.raises(AdminError):
        estate[0].set_faults(no_such_setting=True)
    assert estate[0].faults()["mode"] is None


def test_faults_given_at_start_apply(cmon_estate):
    estate = cmon_estate(controllers=2, clusters=1, hosts=1, faults={1: {"mode": "refused"}})
    assert Client(estate[0]).login().status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):
        Client(estate[1]).login()


def test_estate_wide_faults_and_clear(estate):
    estate.set_faults(mode="empty_json")
    assert all(Client(c).login().json() == {} for c in estate)
    estate.clear_faults()
    assert all(Client(c).login().json()["request_status"] == "Ok" for c in estate)


def test_denied_and_missing_clusters_fail_only_their_requests(estate, client_for):
    ctl = estate[0]
    client = client_for(ctl)
    ctl.set_faults(denied_clusters=[1], missing_clusters=[2])
    denied = client.call("alarm", "getAlarms", cluster_id=1)
    assert (denied["request_status"], denied["error_string"]) == ("AccessDenied",
                                                                  "Access denied.")
    missing = client.call("backup", "getBackups", cluster_id=2)
    assert (missing["request_status"], missing["error_string"]) == (
        "ObjectNotFound", "Cluster was not found.")
    paged = client.call("jobs", "getJobInstances", cluster_ids=[1], limit=32, offset=0)
    assert paged["request_status"] == "AccessDenied"
    assert client.call("clusters", "getAllClusterInfo")["request_status"] == "Ok"
    ctl.clear_faults()
    assert client.call("alarm", "getAlarms", cluster_id=1)["request_status"] == "Ok"
