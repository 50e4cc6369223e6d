"""Single flight: many simultaneous requests against a cold cache, one fetch each."""

from __future__ import annotations

import threading


def test_concurrent_cold_requests_fetch_once_per_controller_and_kind(make_api):
    api = make_api(controllers=3, clusters=3, hosts=1, seed=2, latency=0.3)
    api.estate.reset_counters()
    barrier = threading.Barrier(40)
    replies = []

    def hit(path: str) -> None:
        barrier.wait()
        replies.append(api.post(path, {}))

    paths = ["/proxy/alarms/list", "/proxy/clusters/status"] * 20
    threads = [threading.Thread(target=hit, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(replies) == 40 and all(r.status_code == 200 for r in replies)
    alarms = sum(len([a for a in ctl.data()["alarms"] if a]) for ctl in api.estate)
    assert {r.json["total"] for r in replies if "alarms" in r.json} == {alarms}
    cluster_totals = {sum(r.json["cluster_states"].values()) for r in replies
                      if "cluster_states" in r.json}
    assert cluster_totals == {9}
    for ctl in api.estate:
        assert ctl.count("auth", "authenticateWithPassword") == 1, ctl.name
        assert ctl.count("clusters", "getAllClusterInfo") == 1, ctl.name
        assert ctl.count("alarm", "getAlarms") == 3, ctl.name  # one per cluster, once


def test_fresh_cache_is_served_without_controller_calls(make_api):
    api = make_api(controllers=2, clusters=2, hosts=1)
    api.post("/proxy/clusters/list", {})
    api.estate.reset_counters()
    for _ in range(5):
        assert api.post("/proxy/clusters/list", {}).status_code == 200
    assert all(ctl.count("clusters") == 0 for ctl in api.estate)
    api.post("/proxy/clusters/list", {"force_update": True})
    assert all(ctl.count("clusters", "getAllClusterInfo") == 1 for ctl in api.estate)


def test_stale_data_is_served_at_once_and_refreshed_in_the_background(make_api):
    import time

    api = make_api(controllers=1, clusters=2, hosts=1, cache_ttl=0.3)
    ctl = api.estate[0]
    assert api.post("/proxy/clusters/list", {}).json["total"] == 2
    time.sleep(0.4)
    ctl.set_faults(latency=1.0)
    started = time.monotonic()
    reply = api.post("/proxy/clusters/list", {})
    assert time.monotonic() - started < 0.5  # stale data, no waiting on the slow controller
    assert reply.json["total"] == 2
    assert int(reply.headers["X-Ccmgr-Data-Age"]) >= 0
    deadline = time.monotonic() + 5
    while ctl.count("clusters", "getAllClusterInfo") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ctl.count("clusters", "getAllClusterInfo") == 2  # the background refresh ran


def test_memoized_replies_follow_data_and_config_changes(make_api):
    api = make_api(controllers=2, clusters=2, hosts=1, cache_ttl=0.2)
    body = {"order": "cluster_id", "perPage": 10, "page": 1}
    first = api.post("/proxy/clusters/list", body).json
    assert first == api.post("/proxy/clusters/list", body).json and first["total"] == 4
    api.estate[1].set_faults(mode="http500")
    import time
    time.sleep(0.3)
    api.post("/proxy/clusters/list", {"force_update": True})
    # The failing controller keeps its last good clusters; its age grows, the data do not.
    assert api.post("/proxy/clusters/list", body).json["total"] == 4
    assert api.post("/proxy/controllers/remove", {"xid": api.xid(1)}).status_code == 200
    after = api.post("/proxy/clusters/list", body).json
    assert after["total"] == 2 and list(after["last_updated"]) == [api.estate[0].url]
