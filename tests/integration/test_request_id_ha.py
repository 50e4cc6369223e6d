"""On a loopback HA pair with JSON logs: one request id from the secondary into the
forwarded write on the primary, and the HA metrics of both nodes. The balancer's part
(HAProxy's unique-id) is in tests/lab/test_prometheus_lab.py."""

from __future__ import annotations

import json

import pytest
import yaml
from hapair import build_pair, login, running, sshd_available, wait_for
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.skipif(sshd_available() is not None,
                                reason=f"HA pair: {sshd_available()}")


def _json_lines(node) -> list[dict]:
    return [json.loads(line) for line in (node.basedir / "ccmgr.log").read_text().splitlines()]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    a, b = build_pair(tmp_path_factory.mktemp("pair"))
    for node in (a, b):
        path = node.basedir / "ccmgr.yaml"
        doc = yaml.safe_load(path.read_text())
        doc["log_format"] = "json"
        path.write_text(yaml.safe_dump(doc))
    with running(a, b) as nodes:
        yield nodes


def _metrics(node) -> dict[tuple, float]:
    token = (node.basedir / "metrics.token").read_text().strip()
    reply = node.session().get(f"{node.url}/metrics", timeout=10,
                               headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(reply.text) for s in f.samples}


def test_ha_metrics_of_the_primary_and_the_secondary(pair):
    a, b = pair
    wait_for(lambda: _metrics(a).get(("ccmgr_ha_peer_in_sync", (("peer", "node-b"),))) == 1)
    on_a, on_b = _metrics(a), _metrics(b)
    assert on_a[("ccmgr_ha_role", (("role", "primary"),))] == 1
    assert on_b[("ccmgr_ha_role", (("role", "secondary"),))] == 1
    assert on_a[("ccmgr_ha_replication_lag_seconds", (("peer", "node-b"),))] == 0
    assert on_a[("ccmgr_ha_pushes_total", (("peer", "node-b"),))] >= 1
    assert ("ccmgr_ha_push_failures_total", (("peer", "node-b"),)) in on_a
    assert on_a[("ccmgr_ha_generation", ())] == on_b[("ccmgr_ha_generation", ())]
    assert 0 <= on_b[("ccmgr_ha_last_received_age_seconds", ())] < 60
    assert (a.basedir / "metrics.token").read_text() != (b.basedir / "metrics.token").read_text()
    b.stop_sshd()  # the secondary cannot take pushes: behind, and the lag grows
    try:
        s = login(a, "admin", (a.basedir / "initial-admin-password").read_text().strip())
        reply = s.post(f"{a.url}/proxy/auth/update",
                       data=json.dumps({"user": {"username": "admin", "firstname": "Lag"}}))
        assert reply.status_code == 200
        wait_for(lambda: _metrics(a)[("ccmgr_ha_peer_in_sync", (("peer", "node-b"),))] == 0)
        failures = _metrics(a)[("ccmgr_ha_push_failures_total", (("peer", "node-b"),))]
        assert failures >= 1
    finally:
        b.start_sshd()
    wait_for(lambda: _metrics(a)[("ccmgr_ha_peer_in_sync", (("peer", "node-b"),))] == 1, 30)


def test_a_forwarded_write_keeps_the_request_id_in_both_logs(pair):
    a, b = pair
    password = (a.basedir / "initial-admin-password").read_text().strip()
    s = login(b, "admin", password)
    rid = "lb1-0a0b0c-4242"
    reply = s.post(f"{b.url}/proxy/auth/update", headers={"X-Request-Id": rid},
                   data=json.dumps({"user": {"username": "admin", "lastname": "Traced"}}))
    assert reply.status_code == 200, reply.text
    assert reply.headers["X-Ccmgr-Primary"] == "node-a"
    assert reply.headers["X-Request-Id"] == rid

    def traced(node):
        return [x for x in _json_lines(node) if x.get("request_id") == rid]

    on_b = wait_for(lambda: traced(b))
    on_a = wait_for(lambda: traced(a))
    assert any(x.get("route") == "/proxy/auth/update" and x["node"] == "node-b"
               for x in on_b)
    assert any(x.get("route") == "/proxy/auth/update" and x["status"] == 200
               and x["node"] == "node-a" for x in on_a)
    assert any(x.get("audit") for x in on_a)  # the write's audit line, on the primary
    for node in (a, b):
        text = (node.basedir / "ccmgr.log").read_text()
        assert password not in text
        assert s.cookies["sid"] not in text
