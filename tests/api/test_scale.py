"""A few hundred controllers (issue 17): totals are the sums over the controllers, every
controller is fetched once per kind however many requests come at once, and the indexed
list agrees with the controllers' own records."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

CONTROLLERS = 300


# With fetch processes (cmon.offload) the worker still decides every fetch: the same
# counts must hold when the HTTP is carried out by two child processes.
@pytest.mark.parametrize("fetch_processes", [0, 2], ids=["in-the-worker", "fetch-processes"])
def test_three_hundred_controllers_sum_up_and_are_fetched_once_per_kind(make_api,
                                                                        fetch_processes):
    api = make_api(controllers=CONTROLLERS, clusters=4, hosts=2, seed=11, latency=0.2,
                   subprocess=True, timeout=30, fetch_processes=fetch_processes)
    api.estate.reset_counters()
    replies: dict[str, list] = {}
    barrier = threading.Barrier(12)

    def hit(path: str, body: dict) -> None:
        barrier.wait()
        replies.setdefault(path, []).append(api.post(path, body))

    work = [("/proxy/clusters/status", {}), ("/proxy/alarms/status", {}),
            ("/proxy/clusters/list", {"page": 1, "perPage": 50, "order": "cluster_id desc"}),
            ] * 4
    threads = [threading.Thread(target=hit, args=w) for w in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(r.status_code == 200 for rs in replies.values() for r in rs)

    records = [ctl.data() for ctl in api.estate]
    clusters = [c for data in records for c in data["clusters"]]
    assert len(clusters) == CONTROLLERS * 4
    states = Counter(c["state"] for c in clusters)
    for reply in replies["/proxy/clusters/status"]:
        body = reply.json
        assert body["cluster_states"] == dict(states)
        assert sum(body["clusters_count"].values()) == len(clusters)
        assert len(body["by_controller"]) == CONTROLLERS
    alarms = Counter(a["severity_name"] for data in records for a in data["alarms"] if a)
    for reply in replies["/proxy/alarms/status"]:
        assert sum(reply.json["alarms_count"].values()) == sum(alarms.values())
    newest = sorted((c["cluster_id"] for c in clusters), reverse=True)[:50]
    for reply in replies["/proxy/clusters/list"]:
        assert reply.json["total"] == len(clusters)
        assert [c["cluster_id"] for c in reply.json["clusters"]] == newest
        assert len(reply.json["last_updated"]) == CONTROLLERS

    counts = api.estate.counters()
    for ctl in api.estate:
        mine = counts[ctl.name]
        assert mine[("/v2/clusters", "getallclusterinfo")] == 1, ctl.name
        assert mine[("/v2/alarm", "getalarms")] == 4, ctl.name  # one per cluster, once
        assert mine[("/v2/auth", "authenticatewithpassword")] == 1, ctl.name
