"""clusters/list on the indexed table (views.clustertable) gives exactly what filtering,
sorting and paging every entry one by one gives (the spec's rules, §3.4: the reference
below), for random estates, filters, orders and pages."""

from __future__ import annotations

import gc
import random
import weakref

import pytest
from ccmgr.cmon import records
from ccmgr.cmon.model import ControllerData
from ccmgr.views import clusters, clustertable
from ccmgr.views.clustertable import ClusterTable
from ccmgr.views.common import controller_passes
from ccmgr.views.listrequest import Filter, ListRequest, Match, list_reply
from testkit import as_sent

STATES = ["STARTED", "DEGRADED", "FAILURE", ""]
TYPES = ["GALERA", "REPLICATION", "MONGODB", ""]
TAGS = ["prod", "eu", "db", "x"]


def _estate(rng: random.Random, version: int) -> list[ControllerData]:
    out = []
    for n in range(rng.randint(1, 6)):
        light = [records.light_cluster({
            "cluster_id": rng.randint(1, 9), "cluster_name": f"c{k}",
            "state": rng.choice(STATES), "cluster_type": rng.choice(TYPES),
            "tags": rng.sample(TAGS, rng.randint(0, 3)),
            "hosts": [{"hostname": "h", "hoststatus": "CmonHostOnline"}]})
            for k in range(rng.randint(0, 12))]
        data = {"clusters": {"clusters": light, "processed": f"t{n}", "license": None,
                             "license_check": None}} if rng.random() > 0.1 else {}
        out.append(ControllerData(xid=f"x{n}", url=f"h{n}:9501", controller_id=f"id{n}",
                                  data=data, version_key=(f"x{n}", version)))
    return out


def _reference(controllers: list[ControllerData], req: ListRequest) -> dict:
    """Every entry filtered, then sorted and paged (the code this table replaced)."""
    entries, last_updated = [], {}
    match = Match(req.filters)
    ok = match.record(clusters.CLUSTER_FIELDS, lambda cl: cl.get("tags"))
    for c in controllers:
        found = c.clusters()
        if found is None or not controller_passes(match, c):
            continue
        last_updated[c.url] = c.data["clusters"]["processed"]
        entries.extend((c, cl) for cl in found if ok(cl))
    return list_reply("clusters", entries, req, last_updated, req.order, clusters.CLUSTER_SORT,
                      clusters.BY_KEY, build=lambda e: clusters.cluster_item(e[0], e[1], False))


def _filters(rng: random.Random, controllers: list[ControllerData]) -> tuple[Filter, ...]:
    pool = [
        lambda: Filter(key="state", values=tuple(rng.sample(STATES[:3], rng.randint(1, 2)))),
        lambda: Filter(key="state", value=rng.choice(STATES)),
        lambda: Filter(key="cluster_type", values=tuple(rng.sample(TYPES[:3], 2))),
        lambda: Filter(key="cluster_id", value=str(rng.randint(1, 9))),
        lambda: Filter(key="tags", matchall=tuple(rng.sample(TAGS, rng.randint(1, 2)))),
        lambda: Filter(key="xid", values=tuple(c.xid for c in rng.sample(
            controllers, rng.randint(1, len(controllers))))),
        lambda: Filter(key="controller_url", value=rng.choice(controllers).url),
        lambda: Filter(key="bench_nonce", value=str(rng.random())),  # unknown: no effect
    ]
    return tuple(rng.choice(pool)() for _ in range(rng.randint(0, 4)))


@pytest.mark.parametrize("seed", range(40))
def test_the_table_selects_what_the_entry_by_entry_rules_select(seed):
    rng = random.Random(seed)
    controllers = _estate(rng, seed)
    for _ in range(25):
        per_page = rng.choice([0, 1, 3, 10])
        req = ListRequest(page=rng.randint(1, 4) if per_page else rng.choice([0, 1]),
                          per_page=per_page, filters=_filters(rng, controllers),
                          order=rng.choice(["", "cluster_id", "cluster_id desc", "state",
                                            "state desc", "cluster_type desc", "nosuch desc",
                                            "nosuch"]))
        assert as_sent(clusters.clusters_list(controllers, req)) == \
            as_sent(_reference(controllers, req)), req


def test_one_table_serves_every_query_of_one_data_version():
    controllers = _estate(random.Random(1), version=1000)
    assert ClusterTable.of(controllers).index is ClusterTable.of(controllers).index
    newer = [ControllerData(xid=c.xid, url=c.url, data=c.data, version_key=(c.xid, 1001))
             for c in controllers]
    assert ClusterTable.of(newer).index is not ClusterTable.of(controllers).index


def test_the_kept_index_keeps_no_data_alive():
    """After a refresh the kept index must not hold the superseded estate (memory)."""
    controllers = _estate(random.Random(2), version=3000)
    clusters.clusters_list(controllers, ListRequest(page=1, per_page=3, order="state desc",
                                                    filters=(Filter(key="state",
                                                                    value="STARTED"),)))
    gone = [weakref.ref(c) for c in controllers]
    del controllers
    gc.collect()
    assert ClusterTable._memo.values()  # the index is still kept ...
    assert all(ref() is None for ref in gone)  # ... but none of the data


def test_pages_beyond_the_end_are_empty_and_totals_count_every_match():
    controllers = _estate(random.Random(3), version=2000)
    everything = as_sent(clusters.clusters_list(controllers, ListRequest()))
    n = len(everything["clusters"])
    assert everything.get("total", 0) == n
    far = as_sent(clusters.clusters_list(controllers, ListRequest(page=n + 2, per_page=1)))
    assert far["clusters"] == [] and far.get("total", 0) == n


def test_page_items_are_encoded_once_per_data_version_within_a_bound(monkeypatch):
    controllers = _estate(random.Random(5), version=4000)
    req = ListRequest(page=1, per_page=2, order="cluster_id desc")
    first = clusters.clusters_list(controllers, req)
    built = []
    real = clusters.cluster_item
    monkeypatch.setattr(clusters, "cluster_item",
                        lambda *a, **k: built.append(a) or real(*a, **k))
    again = clusters.clusters_list(controllers, req)
    assert built == [] and as_sent(again) == as_sent(first)  # kept bytes, same reply
    assert as_sent(clusters.clusters_list(controllers, ListRequest(
        page=1, per_page=2, order="cluster_id desc", with_hosts=True))) != as_sent(first)
    assert len(built) == len(first["clusters"])  # with hosts: items of their own
    monkeypatch.setattr(clustertable, "MAX_ITEM_BYTES", 0)  # full: made, but not kept
    newer = [ControllerData(xid=c.xid, url=c.url, controller_id=c.controller_id,
                            data=c.data, version_key=(c.xid, 4001)) for c in controllers]
    built.clear()
    for _ in range(2):
        assert as_sent(clusters.clusters_list(newer, req)) == as_sent(first)
    assert len(built) == 2 * len(first["clusters"])
