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


def test_warm_results_are_reused_until_anything_they_show_changes(make_api):
    import time

    from ccmgr.cmon.model import Who

    api = make_api(controllers=2, clusters=2, hosts=1, cache_ttl=0.5)
    config = api.services.store.current()
    gather = api.collectors.gather
    cold = gather(Who("admin"), config, ["clusters"])
    first = gather(Who("admin"), config, ["clusters"])
    assert first is not cold  # the cache changed while the cold one was gathered
    assert first == cold and gather(Who("admin"), config, ["clusters"]) is first
    assert gather(Who("someone-else"), config, ["clusters"]) is first  # same data, local
    assert gather(Who("admin"), config, ["clusters"], peek=["alarms"]) is not first
    forced = gather(Who("admin"), config, ["clusters"], force=True)
    assert forced is not first
    after = gather(Who("admin"), config, ["clusters"])
    assert after is not first and after[0].version_key != first[0].version_key
    assert gather(Who("admin"), config, ["clusters"]) is after
    api.collectors.client("", config.controllers[0], 5).last_status = "AccessDenied"
    changed = gather(Who("admin"), config, ["clusters"])
    assert changed is not after and changed[0].last_status == "AccessDenied"
    api.estate.reset_counters()
    time.sleep(0.6)  # past the TTL: the next request starts the background refresh
    assert gather(Who("admin"), config, ["clusters"]) is not changed
    deadline = time.monotonic() + 5
    while (sum(c.count("clusters", "getAllClusterInfo") for c in api.estate) < 2
           and time.monotonic() < deadline):
        time.sleep(0.05)
    assert [c.count("clusters", "getAllClusterInfo") for c in api.estate] == [1, 1]


def test_data_age_header_grows_while_a_warm_result_is_reused(make_api):
    import time

    api = make_api(controllers=1, clusters=1, hosts=1)
    assert int(api.post("/proxy/clusters/status", {}).headers["X-Ccmgr-Data-Age"]) == 0
    time.sleep(1.1)
    assert int(api.post("/proxy/clusters/status", {}).headers["X-Ccmgr-Data-Age"]) == 1


def test_start_up_logs_in_and_fetches_cluster_lists_in_the_background(make_api, cmon_estate):
    import time

    from api.conftest import instance_of

    estate = cmon_estate(controllers=3, clusters=2, hosts=1, ldap=[2], latency=0.2)
    instances = [instance_of(estate[0]), instance_of(estate[1]),
                 instance_of(estate[2], useldap=True, username="", password="")]
    api = make_api(estate, instances=instances, login=False)
    api.estate[1].set_faults(wrong_credentials=True)
    config = api.services.store.current()
    started = time.monotonic()
    api.collectors.warm_up(config)
    assert time.monotonic() - started < 0.15  # nothing waits for the controllers
    deadline = time.monotonic() + 10
    while api.collectors.cache.fetches < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # let any further (wrong) fetch show up
    cached = api.collectors.cache.keys()  # (identity, xid, kind)
    fetched = {key[1] for key in cached}
    assert fetched == {api.xid(0)}  # not the one refusing the login, not the LDAP one
    counts = [c.count("clusters", "getAllClusterInfo") for c in api.estate]
    assert counts == [1, 0, 0]
    # The first request joins what start-up fetched instead of fetching again.
    assert api.login().status_code == 200
    assert api.post("/proxy/clusters/list", {}).json["total"] >= 2
    assert api.estate[0].count("clusters", "getAllClusterInfo") == 1


class _Seeded:
    """A start-up snapshot that seeded every controller (only what warm_up asks of one)."""

    def load(self, config) -> int:
        return len(config.controllers)

    def start(self) -> None:
        pass


def test_start_up_logins_are_paced_while_a_snapshot_serves_and_not_otherwise(
        make_api, cmon_estate, monkeypatch):
    import time

    from ccmgr.collectors import service

    monkeypatch.setattr(service, "WARM_UP_PACE", 2)
    estate = cmon_estate(controllers=6, clusters=1, hosts=1, latency=0.3)
    config = make_api(estate, login=False).services.store.current()

    def logins_at_once(snapshot) -> int:
        collectors = service.Collectors()  # a new worker's: no controller session yet
        try:
            estate.reset_stats()
            collectors.warm_up(config, snapshot)
            deadline = time.monotonic() + 15
            while collectors.cache.fetches < 6 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert collectors.cache.fetches == 6
            return estate.in_flight_max()["authenticateWithPassword"]
        finally:
            collectors.close()

    assert logins_at_once(None) == 6  # a first start: nothing to serve, all at once
    assert logins_at_once(_Seeded()) == 2  # the snapshot serves meanwhile: paced


def test_outdated_warm_results_are_dropped_and_do_not_keep_old_data(make_api):
    from ccmgr.cmon.model import Who

    api = make_api(controllers=1, clusters=2, hosts=1)
    config = api.services.store.current()
    gather = api.collectors.gather
    every = (["clusters"], ["clusters", "alarms"], ["ping"])
    for kinds in every:  # cold: each fetch changes the cache
        gather(Who("admin"), config, kinds)
    for kinds in every:
        gather(Who("admin"), config, kinds)
    assert len(api.collectors._snapshots) == 3
    old = gather(Who("admin"), config, ["clusters"])[0].data["clusters"]
    gather(Who("admin"), config, ["clusters"], force=True)  # the cache changes
    gather(Who("admin"), config, ["ping"])  # any later request drops what is outdated
    kept = api.collectors._snapshots.values()
    assert len(kept) == 1  # the superseded cluster list is no longer held by any of them
    assert all(c.data.get("clusters") is not old for snap in kept for c in snap.data)


def test_a_background_refresh_lets_go_of_the_kept_results_it_made_outdated(make_api):
    """A kept gather result holds its payloads; once a refresh replaced them, it must go
    at once (not at the next request), or the old estate stays in memory beside the new."""
    import time

    api = make_api(controllers=2, clusters=2, hosts=1, cache_ttl=0.3, latency=0.5)
    assert api.post("/proxy/clusters/list", {}).status_code == 200
    time.sleep(0.4)  # stale now; the refresh will take the controllers' 0.5 s
    fetched = api.collectors.cache.fetches
    assert api.post("/proxy/clusters/list", {}).status_code == 200  # stale: refresh starts
    assert len(api.collectors._snapshots) >= 1  # the stale result is kept meanwhile
    deadline = time.monotonic() + 5
    while api.collectors.cache.fetches < fetched + 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert api.collectors.cache.fetches >= fetched + 2
    assert len(api.collectors._snapshots) == 0
