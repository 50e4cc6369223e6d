"""The typed fast path for cluster lists (cmon.wire) gives exactly what the tolerant path
(records.light_cluster over a dict decode) gives, for the simulator's replies and for
replies with the odd types real controllers send; an odd reply takes the tolerant path."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from ccmgr.cmon import records, wire
from ccmgr.cmon.client import CmonClient, Credentials
from ccmgr.cmon.errors import BadReply
from ccmgr.collectors import fetch
from ccmgr.http import HttpPool
from cmonsim.estate import ALL_QUIRKS

CLUSTERS = {"operation": "getAllClusterInfo", "with_hosts": True, "with_license_check": True,
            "with_tags": True}


@pytest.fixture
def http() -> Iterator[HttpPool]:
    pool = HttpPool()
    yield pool
    pool.close()


def _tolerant(body: bytes) -> dict:
    return fetch.clusters_payload(body, tolerant=True)


def _comparable(payload: dict) -> dict:
    """The payload with each record's bytes decoded (a Raw slice and re-encoded bytes
    differ as bytes, not as records)."""
    out = {k: v for k, v in payload.items() if k != "reply"}
    out["clusters"] = [{**c, "_raw": records.raw_cluster(c)} for c in payload["clusters"]]
    return out


@pytest.mark.parametrize("quirks", [None, ALL_QUIRKS])
def test_simulated_replies_take_the_fast_path_with_the_same_result(cmon_estate, http, quirks):
    kw = {} if quirks is None else {"quirks": quirks}
    estate = cmon_estate(controllers=1, clusters=6, hosts=3, seed=5, **kw)
    ctl = estate[0]
    client = CmonClient(http, ctl.url, Credentials(ctl.username, ctl.password), timeout=10)
    typed, body = client.call_typed("clusters", CLUSTERS, None, wire.decode_clusters)
    assert typed is not None
    assert client.controller_id == typed.controller_id  # judged like call()
    payload = fetch.clusters_payload(body, typed)
    assert payload["reply"] is body
    assert len(payload["clusters"]) == 6
    assert _comparable(payload) == _comparable(_tolerant(body))
    cluster = payload["clusters"][0]
    assert isinstance(cluster["_raw"].raw(), wire.msgspec.Raw)  # a slice of the reply
    assert [h["hostname"] for h in records.hosts_of(cluster)] == [
        h["hostname"] for h in records.raw_cluster(cluster)["hosts"]]


def _reply(clusters: list, **head) -> bytes:
    return json.dumps({"request_status": "Ok", "request_processed": "2026-12-02T10:00:00.000Z",
                       "clusters": clusters, **head}).encode()


HOST = {"hostname": "h1", "hoststatus": "CmonHostOnline", "nodetype": "galera", "port": 3306}
CTRL = {"hostname": "c", "hoststatus": "CmonHostOnline", "nodetype": "controller"}


@pytest.mark.parametrize(("cluster", "fast"), [
    ({"cluster_id": 3, "state": "STARTED", "cluster_type": "GALERA", "tags": ["a"],
      "hosts": [CTRL, HOST, {**HOST, "hoststatus": "CmonHostOffLine"}]}, True),
    ({"cluster_id": "3", "state": "STARTED"}, True),            # CmonInt: a numeric string
    ({"cluster_id": 3.0, "hosts": None, "tags": None}, True),
    ({"cluster_id": " 3", "state": "STARTED"}, False),         # as_int strips, msgspec not
    ({"cluster_id": 3.7, "state": "STARTED"}, False),          # floored by as_int
    ({"cluster_id": True, "state": "STARTED"}, False),
    ({"cluster_id": 3, "state": 5}, False),                    # a number where a string was
    ({"cluster_id": 3, "tags": ["a", 5, None]}, False),        # non-string tags dropped
    ({"cluster_id": 3, "hosts": [HOST, "junk", None]}, False),  # non-object hosts skipped
    ({"cluster_id": 3, "hosts": [{**HOST, "hoststatus": None}]}, True),
])
def test_odd_types_give_the_tolerant_result(cluster, fast):
    body = _reply([cluster, "not a cluster"] if not fast else [cluster],
                  license={"type": "Enterprise", "days_left": "12", "valid_date": True},
                  license_check=None)
    assert (wire.decode_clusters(body) is not None) is fast
    assert _comparable(fetch.clusters_payload(body)) == _comparable(
        _tolerant(body))


def test_nan_and_huge_numbers_take_the_tolerant_path():
    body = (b'{"request_status":"Ok","clusters":[{"cluster_id":7,"state":"STARTED",'
            b'"hosts":[{"hoststatus":"x","pingtime":NaN}]}]}')
    assert wire.decode_clusters(body) is None
    payload = fetch.clusters_payload(body)
    assert [(c["cluster_id"], c["node_states"]) for c in payload["clusters"]] == [(7, {"x": 1})]


@pytest.mark.parametrize("body", [b"<html>", b"[1, 2]", b""])
def test_a_body_that_is_no_json_object_is_a_bad_reply(body):
    with pytest.raises(BadReply):
        fetch.clusters_payload(body)


@pytest.mark.parametrize(("body", "expected"), [
    (b'{"request_status":"Ok","controller_id":"abc","clusters":[]}',
     {"request_status": "Ok", "controller_id": "abc"}),
    (b'{"request_status":null}', {"request_status": None}),  # sent as null: present
    (b'{"x":1}', {}),                                          # absent: left out
])
def test_the_envelope_keeps_present_and_absent_apart(body, expected):
    assert wire.envelope_fields(wire.decode_clusters(body)) == expected


@pytest.mark.parametrize("body", [b"[1]", b"{", b'{"request_status":"Ok","clusters":5}'])
def test_what_the_typed_decoder_cannot_read_is_none(body):
    assert wire.decode_clusters(body) is None


@pytest.mark.parametrize("cluster", [
    {"class_name": "CmonClusterInfo", "cluster_id": 4, "cluster_name": "n", "state": "STARTED",
     "tags": ["a", 5], "vendor": None, "hosts": [HOST, "junk"], "extra": {"x": [1]}},
    {"cluster_id": "4", "cluster_name": 7, "maintenance_mode_active": "true",
     "version": 8.0, "class_name": None},
    {"cluster_id": 4, "hosts": [{"pingtime": 2**70}]},
])
def test_a_reply_item_from_the_head_alone_equals_one_from_the_whole_record(cluster):
    """Items without hosts are shaped from the record's top-level fields only."""
    light = records.light_cluster(cluster)
    assert wire.cluster_head(light["_raw"]) is not None
    assert records.cluster(records.raw_cluster_head(light), with_hosts=False) == \
        records.cluster(cluster, with_hosts=False)


def test_a_head_the_fast_decoder_cannot_read_takes_the_full_decode():
    light = {"_raw": b'{"cluster_id": 4, "state": NaN}', "cluster_id": 4}
    assert wire.cluster_head(light["_raw"]) is None
    assert records.raw_cluster_head(light)["cluster_id"] == 4
