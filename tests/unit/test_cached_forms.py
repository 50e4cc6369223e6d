"""How controller data are decoded and kept: msgspec with the standard library's rules,
clusters cached compactly and decoded again only for the items a reply returns, one
memoized reply per query, and the worker's garbage-collector settings."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from ccmgr import jsonfast
from ccmgr.cmon import records
from ccmgr.cmon.model import ControllerData, Who
from ccmgr.collectors.memo import ReplyMemo
from ccmgr.views import clusters
from ccmgr.views.listrequest import ListRequest
from testkit import as_sent

BIG = 2**70  # beyond 64-bit integers


@pytest.mark.parametrize(("text", "expected"), [
    (b'{"a": [1, "x", null, true]}', {"a": [1, "x", None, True]}),
    (f'{{"n": {BIG}}}'.encode(), {"n": BIG}),          # exact, not a float
    (b'[1e400]', [math.inf]),                           # standard decoder fallback
    ('{"k": "ü"}'.encode("utf-16"), {"k": "ü"}),        # json.loads detects UTF-16
])
def test_loads_accepts_what_the_standard_decoder_accepts(text, expected):
    assert jsonfast.loads(text) == expected


def test_loads_keeps_nan_like_the_standard_decoder():
    assert math.isnan(jsonfast.loads(b'{"x": NaN}')["x"])


@pytest.mark.parametrize("text", [b'{"request_status": "Ok", "clusters": [', b"", b"<html>"])
def test_loads_raises_value_error_for_non_json(text):
    with pytest.raises(ValueError):
        jsonfast.loads(text)


def test_dumps_is_compact_and_round_trips_big_integers():
    assert jsonfast.dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()
    assert jsonfast.loads(jsonfast.dumps({"n": BIG})) == {"n": BIG}


def _raw_cluster() -> dict:
    def host(hid: int, status: str, nodetype: str = "galera") -> dict:
        return {"class_name": "CmonHost", "hostId": hid, "hostname": f"10.0.0.{hid}",
                "port": "3306", "hoststatus": status, "nodetype": nodetype, "clusterid": 7,
                "distribution": {"name": "debian", "release": "12"}, "extra": [1, 2]}
    return {"class_name": "CmonClusterInfo", "cluster_id": 7, "cluster_name": "c7",
            "cluster_type": "GALERA", "state": "STARTED", "tags": ["prod", 5],
            "hosts": [host(1, "CmonHostOnline", "controller"), "junk",
                      host(2, "CmonHostOnline"), host(3, "CmonHostOffLine"),
                      host(4, "CmonHostOnline")]}


def test_light_cluster_keeps_what_views_read_and_the_record_encoded():
    raw = _raw_cluster()
    light = records.light_cluster(raw)
    assert (light["cluster_id"], light["state"], light["tags"]) == (7, "STARTED", ["prod"])
    assert isinstance(light["_raw"], bytes) and records.raw_cluster(light) == raw
    # Status counts without the controller host, counted once at caching time.
    assert (light["nodes"], light["node_states"]) == (4, {"CmonHostOnline": 2,
                                                          "CmonHostOffLine": 1})
    hosts = records.hosts_of(light)  # made on first use, then kept
    assert records.hosts_of(light) is hosts
    assert [h["hostId"] for h in hosts] == [1, 2, 3, 4]  # "junk" is no host
    assert (hosts[1]["port"], hosts[1]["nodetype"]) == (3306, "galera")
    assert [records.raw_host(h) for h in hosts] == [raw["hosts"][i] for i in (0, 2, 3, 4)]


def test_reply_items_are_shaped_from_the_encoded_record():
    raw = _raw_cluster()
    data = ControllerData(xid="x1", url="h1:9501", controller_id="c1", data={"clusters": {
        "clusters": [records.light_cluster(raw)], "processed": "", "license": None,
        "license_check": None}})
    listed = as_sent(clusters.clusters_list([data], ListRequest(with_hosts=True)))["clusters"][0]
    expected = records.cluster(raw)
    assert listed["cluster_name"] == "c7"
    assert listed["hosts"] == [records.host(raw["hosts"][i]) for i in (2, 3, 4)]
    assert listed["hosts"] == expected["hosts"][1:]  # the first controller host is dropped
    hosts = clusters.clusters_hosts([data], ListRequest())["hosts"]
    assert [h["hostname"] for h in hosts] == ["10.0.0.2", "10.0.0.3", "10.0.0.4"]
    assert hosts[1]["distribution"] == {"codename": "", "name": "debian", "release": "12",
                                        "type": ""}
    status = clusters.clusters_status([data], [])
    assert status["node_states"] == {"CmonHostOnline": 2, "CmonHostOffLine": 1}
    assert status["by_controller"]["x1"]["by_cluster"]["7"] == {
        "node_states": {"CmonHostOnline": 2, "CmonHostOffLine": 1}}


def test_memo_keeps_one_reply_per_query_and_never_serves_a_superseded_one():
    memo = ReplyMemo(size=2)
    who = Who("admin")

    def key(path: str, version: int) -> tuple:
        data = [ControllerData(xid="x1", url="u", version_key=("x1", version))]
        return memo.key(path, "request", who, data, ("clusters",))

    memo.put(key("/a", 1), b"a1")
    assert memo.get(key("/a", 1)) == b"a1"
    memo.put(key("/a", 2), b"a2")  # the data changed: the old reply goes
    assert memo.get(key("/a", 1)) is None and memo.get(key("/a", 2)) == b"a2"
    assert len(memo._items) == 1
    memo.put(key("/b", 1), b"b1")
    memo.put(key("/c", 1), b"c1")  # over the size: the least recently used query goes
    assert memo.get(key("/a", 2)) is None
    assert (memo.get(key("/b", 1)), memo.get(key("/c", 1))) == (b"b1", b"c1")


def test_gc_tuning_freezes_startup_objects_and_raises_the_young_threshold():
    code = ("import gc; from ccmgr import gctune; gctune.tune(); "
            "print(gc.get_freeze_count() > 1000, gc.get_threshold()[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", str(50_000)]


def test_the_app_loads_cryptography_only_when_a_key_login_needs_it():
    # Its OpenSSL bindings cost every worker ~8 MiB (docs/benchmarks.md, memory).
    code = ("import sys, ccmgr.app; "
            "print(any(m.startswith('cryptography') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
