"""One request id from the secondary into the forwarded write on the primary (JSON logs).
The balancer's part (HAProxy's unique-id) is in tests/lab/test_prometheus_lab.py."""

from __future__ import annotations

import json

import pytest
import yaml
from hapair import build_pair, login, same_shared, sshd_available, wait_for

pytestmark = pytest.mark.skipif(sshd_available() is not None,
                                reason=f"HA pair: {sshd_available()}")


def _json_lines(node) -> list[dict]:
    return [json.loads(line) for line in (node.basedir / "ccmgr.log").read_text().splitlines()]


def test_a_forwarded_write_keeps_the_request_id_in_both_logs(tmp_path):
    a, b = build_pair(tmp_path)
    for node in (a, b):
        path = node.basedir / "ccmgr.yaml"
        doc = yaml.safe_load(path.read_text())
        doc["log_format"] = "json"
        path.write_text(yaml.safe_dump(doc))
    try:
        a.start_sshd()
        b.start_sshd()
        a.start()
        b.start()
        wait_for(lambda: same_shared(a, b))
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
    finally:
        for node in (a, b):
            node.stop()
            node.stop_sshd()
