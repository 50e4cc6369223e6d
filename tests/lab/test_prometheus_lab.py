"""Issue 14 on the lab: Prometheus on lb1 scrapes both nodes (verified TLS, their tokens)
and HAProxy; a simulated controller that stops answering raises CcmgrControllerDown
(pending, then firing) and clears it when it is back; the balancer's request id reaches
the node's log. The lab's role variables make `for:` 10 s and intervals 5 s."""

from __future__ import annotations

import json
import time

import pytest
import requests
from labkit import Lab
from testkit import poll

pytestmark = pytest.mark.lab
PLAN = Lab.from_env()
PROMETHEUS_HOST = "lb1"
ALERT = "CcmgrControllerDown"


def prom(site: Lab, path: str) -> dict:
    out = site.ssh(PROMETHEUS_HOST, f"curl -sf 'http://127.0.0.1:9090{path}'").stdout
    return json.loads(out)


def query(site: Lab, expr: str) -> list[dict]:
    from urllib.parse import quote
    return prom(site, f"/api/v1/query?query={quote(expr)}")["data"]["result"]


def alert_states(site: Lab, name: str) -> set[str]:
    alerts = prom(site, "/api/v1/alerts")["data"]["alerts"]
    return {a["state"] for a in alerts if a["labels"].get("alertname") == name}


def test_prometheus_sees_a_controller_go_down_and_come_back(site):
    site.start_simulators()
    def sim_admin(method: str, body: str = "") -> bool:
        """The simulators' admin endpoint listens on cmon1's loopback: call it there."""
        data = f" -H 'Content-Type: application/json' -d '{body}'" if body else ""
        return site.ssh("cmon1", f"curl -sf -X {method}{data} "
                        "http://127.0.0.1:9500/controllers/0/faults", check=False
                        ).returncode == 0

    assert poll(lambda: sim_admin("GET"), 60), "the simulators' admin endpoint does not answer"
    assert sim_admin("DELETE")
    node = PLAN.groups["ccm_primary"][0]
    s, url = site.node_session(node)

    def refresh() -> None:  # ccmgr fetches on demand: keep the dashboard's requests coming
        reply = s.post(f"{url}/proxy/clusters/status", json={"force_update": True}, timeout=60)
        assert reply.status_code == 200

    refresh()
    targets = {"ccmgr": len(PLAN.groups["ccm"]), "haproxy": 1}
    for job, count in targets.items():
        assert poll(lambda j=job, c=count: len([r for r in query(site, f'up{{job="{j}"}}')
                                                if r["value"][1] == "1"]) == c, 60), job
    def controller_up() -> list:  # after the next scrape of the node that fetched
        return [r["value"][1] for r in query(site, 'ccmgr_controller_up{name="cmon-01"}')
                if node in r["metric"]["instance"]]
    assert poll(lambda: controller_up() == ["1"], 60), controller_up()
    assert query(site, 'haproxy_server_status{proxy="ccms",state="UP"}')

    assert sim_admin("PATCH", '{"mode": "refused"}')
    try:
        seen: set[str] = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "firing" not in seen:
            refresh()
            seen |= alert_states(site, ALERT)
            time.sleep(2)
        assert "pending" in seen and "firing" in seen, seen
    finally:
        assert sim_admin("DELETE")

    def resolved() -> bool:
        refresh()
        return not alert_states(site, ALERT)
    assert poll(resolved, 90, interval=2)


def test_the_balancers_request_id_is_in_the_nodes_log(site):
    s = requests.Session()
    s.trust_env = False
    s.verify = str(PLAN.paths.state / "pki" / "ca.crt")
    address = PLAN.vip
    reply = s.get(f"https://{address}/proxy/auth/check", timeout=30,
                  headers={"X-Request-Id": "client-made"})
    rid = reply.headers["X-Request-Id"]
    assert rid and rid != "client-made"
    assert s.get(f"https://{address}/metrics", timeout=30).status_code == 403
    found = [n for n in PLAN.groups["ccm"]
             if site.ssh(n, f"grep -c 'id={rid}' /var/log/ccmgr/ccmgr.log", check=False)
             .stdout.strip() not in ("", "0")]
    assert len(found) == 1, found
