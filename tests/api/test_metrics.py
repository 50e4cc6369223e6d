"""/metrics against simulated controllers: names, labels, changes, no fetch, the token."""

from __future__ import annotations

import os
import stat

import pytest
from cmonsim.testing import start_estate
from prometheus_client.parser import text_string_to_metric_families


@pytest.fixture(scope="module")
def estate():
    with start_estate(controllers=2, clusters=3, hosts=2, seed=5) as e:
        yield e


def _token(api) -> str:
    with open(os.path.join(api.services.basedir, "metrics.token"), encoding="utf-8") as f:
        return f.read().strip()


def scrape(api, token: str | None = None) -> dict[str, list]:
    headers = {"Authorization": f"Bearer {token or _token(api)}"}
    reply = api.client.simulate_get("/metrics", headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: dict, metric: str, **labels: str) -> float:
    found = [s.value for s in samples.get(metric, ())
             if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (metric, labels, samples.get(metric))
    return found[0]


def test_metrics_refuse_without_token_or_session(make_api, estate):
    api = make_api(estate, login=False)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"},
                    {"Authorization": "Bearer "}):
        reply = api.client.simulate_get("/metrics", headers=headers)
        assert reply.status_code == 401
        assert reply.json["request_status"] == "AuthRequired"
        assert "ccmgr_" not in reply.text
    mode = stat.S_IMODE(os.stat(os.path.join(api.services.basedir, "metrics.token")).st_mode)
    assert mode == 0o600
    assert scrape(api)  # the right token works


def test_a_session_may_scrape(make_api, estate):
    api = make_api(estate)
    reply = api.get("/metrics")
    assert reply.status_code == 200
    assert "ccmgr_ha_role" in reply.text


def test_controller_and_estate_metrics_follow_the_controllers(make_api, estate):
    api = make_api(estate, cache_ttl=0.2)
    x0, x1 = api.xid(0), api.xid(1)
    name0 = api.instances[0]["name"]
    for path in ("/proxy/clusters/status", "/proxy/alarms/status", "/proxy/jobs/status",
                 "/proxy/backups/status"):
        assert api.post(path, {"force_update": True}).status_code == 200
    s = scrape(api)
    assert value(s, "ccmgr_controller_up", xid=x0, name=name0) == 1
    assert value(s, "ccmgr_controller_up", xid=x1) == 1
    assert value(s, "ccmgr_controller_data_age_seconds", xid=x0, kind="clusters") >= 0
    assert value(s, "ccmgr_controller_last_login_timestamp_seconds", xid=x0) > 1e9
    assert value(s, "ccmgr_controller_fetch_duration_seconds_count", kind="clusters") >= 2
    data = estate[0].data()
    total = sum(x.value for x in s["cmon_cluster_count"] if x.labels["xid"] == x0)
    assert total == len(data["clusters"])
    states = {x.labels["state"] for x in s["cmon_cluster_count"] if x.labels["xid"] == x0}
    assert states == {c["state"] for c in data["clusters"]}
    hosts = sum(x.value for x in s["ccmgr_hosts"] if x.labels["xid"] == x0)
    assert hosts == sum(1 for c in data["clusters"] for h in c["hosts"]
                        if h["nodetype"] != "controller")
    assert {"severity"} <= set(s["ccmgr_alarms"][0].labels)
    value(s, "ccmgr_failed_jobs", xid=x0)
    value(s, "ccmgr_failed_backups", xid=x0)
    assert value(s, "ccmgr_http_requests_total", route="/proxy/clusters/status",
                 status="200") == 1
    assert value(s, "ccmgr_http_request_duration_seconds_count",
                 route="/proxy/clusters/status") == 1
    assert value(s, "ccmgr_active_sessions") == 1
    assert value(s, "ccmgr_ha_role", role="primary") == 1
    value(s, "ccmgr_ha_epoch")
    value(s, "ccmgr_ha_generation")

    estate[0].stop()  # connection refused
    try:
        assert api.post("/proxy/clusters/status", {"force_update": True}).status_code == 200
        s = scrape(api)
        assert value(s, "ccmgr_controller_up", xid=x0) == 0
        assert value(s, "ccmgr_controller_up", xid=x1) == 1
        errors = [x for x in s["ccmgr_controller_fetch_errors_total"]
                  if x.labels["xid"] == x0 and x.labels["kind"] == "clusters"]
        assert errors and errors[0].labels["error"] and errors[0].value >= 1
    finally:
        estate[0].start()
    assert api.post("/proxy/clusters/status", {"force_update": True}).status_code == 200
    assert value(scrape(api), "ccmgr_controller_up", xid=x0) == 1


def test_a_scrape_makes_no_controller_request(make_api, estate):
    api = make_api(estate, cache_ttl=0.05)
    assert api.post("/proxy/alarms/status", {}).status_code == 200
    import time
    time.sleep(0.2)  # everything cached is now stale: a fetch would be due on any request
    estate.reset_counters()
    for _ in range(5):
        scrape(api)
    assert all(sum(c.values()) == 0 for c in estate.counters().values())


def test_login_failures_lockouts_and_memo_hits(make_api, estate):
    api = make_api(estate, login=False)
    import json
    for _ in range(11):
        api.client.simulate_post("/proxy/auth/login", body=json.dumps(
            {"username": "admin", "password": "wrong"}))
    assert api.login().status_code == 429  # locked out now
    api.services.limiter = type(api.services.limiter)()  # a fresh limiter to log in
    assert api.login().status_code == 200
    for _ in range(3):
        assert api.post("/proxy/clusters/list", {}).status_code == 200
    s = scrape(api)
    assert value(s, "ccmgr_login_failures_total") == 10
    assert value(s, "ccmgr_login_lockouts_total") == 2
    assert value(s, "ccmgr_aggregate_cache_hits_total", route="/proxy/clusters/list") >= 1
    assert value(s, "ccmgr_aggregate_cache_misses_total", route="/proxy/clusters/list") >= 1


def test_the_token_is_not_in_a_replication_bundle(make_api, estate):
    from ccmgr.ha.bundle import make_bundle
    api = make_api(estate)
    scrape(api)
    assert _token(api) not in repr(make_bundle(api.services))


def test_memoized_controller_lines_follow_the_clock_the_names_and_the_config(make_api, estate):
    """A controller's lines are formatted once per change of its data (docs/benchmarks.md);
    the data ages still move at every scrape, and a rename or a removal shows at once."""
    import time

    api = make_api(estate, cache_ttl=3600)
    x0, x1 = api.xid(0), api.xid(1)
    assert api.post("/proxy/clusters/status", {"force_update": True}).status_code == 200
    first = value(scrape(api), "ccmgr_controller_data_age_seconds", xid=x0, kind="clusters")
    time.sleep(0.3)
    s = scrape(api)
    assert value(s, "ccmgr_controller_data_age_seconds", xid=x0, kind="clusters") >= first + 0.25
    clusters = sorted((x.labels["state"], x.value) for x in s["cmon_cluster_count"]
                      if x.labels["xid"] == x1)

    c = estate[1]
    renamed = api.post("/proxy/controllers/update", {"controller": {
        "xid": x1, "url": c.url, "name": "renamed-one", "username": c.username}})
    assert renamed.status_code == 200, renamed.text
    assert api.post("/proxy/clusters/status", {}).status_code == 200
    s = scrape(api)
    assert {x.labels["name"] for x in s["cmon_cluster_count"] if x.labels["xid"] == x1} == {
        "renamed-one"}
    assert sorted((x.labels["state"], x.value) for x in s["cmon_cluster_count"]
                  if x.labels["xid"] == x1) == clusters

    assert api.post("/proxy/controllers/remove", {"xid": x1}).status_code == 200
    s = scrape(api)
    for name in ("ccmgr_controller_up", "ccmgr_controller_data_age_seconds",
                 "cmon_cluster_count", "ccmgr_hosts"):
        assert {x.labels["xid"] for x in s[name]} == {x0}, name
