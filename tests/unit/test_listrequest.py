"""The ListRequest parser and matcher (spec §3): pure, bad input is a 400, never a 500."""

from __future__ import annotations

import pytest
from ccmgr.errors import InvalidRequest
from ccmgr.views import listrequest as lr
from ccmgr.views.listrequest import Filter, ListRequest


def test_defaults_when_no_body():
    assert lr.parse(None) == ListRequest()
    assert lr.parse({}) == ListRequest()


def test_full_request_is_parsed():
    req = lr.parse({"page": 2, "perPage": 20, "order": "created desc", "force_update": True,
                    "with_hosts": True, "filters": [
                        {"key": "cluster_type", "values": ["GALERA", "REPLICATION"]},
                        {"key": "tags", "matchall": ["prod", "eu"]},
                        {"key": "state", "value": "STARTED"}]})
    assert (req.page, req.per_page, req.order, req.force_update, req.with_hosts) == (
        2, 20, "created desc", True, True)
    assert req.filters == (Filter("cluster_type", "", ("GALERA", "REPLICATION")),
                           Filter("tags", "", (), ("prod", "eu")), Filter("state", "STARTED"))


@pytest.mark.parametrize("body", [
    {"page": 0, "perPage": 1}, {"page": -1}, {"perPage": -5}, {"page": "1"}, {"page": True},
    {"perPage": 2.0}, {"page": 1 << 40}, {"order": 5}, {"filters": "x"}, {"filters": [1]},
    {"filters": [{"key": 1}]}, {"filters": [{"key": "a", "value": 1}]},
    {"filters": [{"key": "a", "values": "x"}]}, {"filters": [{"key": "a", "values": [None]}]},
    {"filters": [{"key": "a", "matchany": ["x"]}]}, {"per_page": 1}, {"limit": 1},
    {"force_update": "yes"}, {"with_hosts": 1},
])
def test_bad_requests_raise_invalid_request(body):
    with pytest.raises(InvalidRequest) as err:
        lr.parse(body)
    assert err.value.code == 400
    assert err.value.body()["type"] == "InvalidRequest"
    assert err.value.body()["message"].startswith("Invalid request:")


def test_status_spec_refuses_list_fields():
    with pytest.raises(InvalidRequest):
        lr.parse({"page": 1}, lr.STATUS_FIELDS)
    assert lr.parse({"filters": [], "force_update": True}, lr.STATUS_FIELDS).force_update


def test_null_counts_as_absent():
    assert lr.parse({"page": None, "filters": None}) == ListRequest()


F = (Filter("state", "STARTED"), Filter("state", "DEGRADED"),
     Filter("cluster_type", "", ("GALERA", "REDIS")), Filter("port", ""))


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("state", "STARTED", True),
    ("state", "DEGRADED", False),      # first filter per key wins
    ("state", "", True),               # empty record values always pass
    ("cluster_type", "REDIS", True),
    ("cluster_type", "redis", False),  # exact, case-sensitive
    ("port", "3306", False),           # neither value nor values: rejects non-empty
    ("hostname", "anything", True),    # no filter for the key
])
def test_passes(key, value, expected):
    assert lr.passes(F, key, value) is expected


def test_no_filters_pass_everything():
    assert lr.passes((), "state", "x") and lr.tags_pass((), None)


def test_tags_matchall_is_and_and_uses_the_first_non_empty():
    filters = (Filter("tags", "x"), Filter("tags", matchall=("a", "b")),
               Filter("tags", matchall=("z",)))
    assert lr.tags_pass(filters, ["b", "a", "c"])
    assert not lr.tags_pass(filters, ["a"])
    assert not lr.tags_pass(filters, None)
    assert lr.tags_pass((Filter("tags", "a"),), [])  # value/values ignored on tags


@pytest.mark.parametrize(("order", "expected"), [
    ("created desc", ("created", True)), ("created DESC", ("created", True)),
    ("created asc", ("created", False)), ("created", ("created", False)),
    ("created  desc", ("created", False)),  # split on single spaces, as cmon-proxy
    ("", ("", False)), ("a desc extra", ("a", True)),
])
def test_parse_order(order, expected):
    assert lr.parse_order(order) == expected


ITEMS = [{"n": i} for i in (3, 1, 2, 5, 4)]
KEYS = {"n": lambda i: i["n"]}


def test_sort_known_unknown_and_default_fields():
    assert [i["n"] for i in lr.sort_items(ITEMS, "n", KEYS)] == [1, 2, 3, 4, 5]
    assert [i["n"] for i in lr.sort_items(ITEMS, "n desc", KEYS)] == [5, 4, 3, 2, 1]
    assert lr.sort_items(ITEMS, "other", KEYS) == ITEMS  # unknown: order kept
    forced = (lambda i: i["n"], True)
    assert [i["n"] for i in lr.sort_items(ITEMS, "x asc", KEYS, forced)] == [5, 4, 3, 2, 1]
    honoured = (lambda i: i["n"], None)
    assert [i["n"] for i in lr.sort_items(ITEMS, "", KEYS, honoured)] == [1, 2, 3, 4, 5]
    assert [i["n"] for i in lr.sort_items(ITEMS, " desc", KEYS, honoured)] == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(("page", "per_page", "expected"), [
    (0, 0, [3, 1, 2, 5, 4]), (1, 2, [3, 1]), (3, 2, [4]), (4, 2, []), (1, 10, [3, 1, 2, 5, 4]),
    (7, 0, [3, 1, 2, 5, 4]),
])
def test_paginate(page, per_page, expected):
    assert [i["n"] for i in lr.paginate(ITEMS, ListRequest(page=page, per_page=per_page))] == \
        expected


def test_list_reply_omits_zero_page_perpage_total():
    empty = lr.list_reply("things", [], ListRequest(), {}, "", KEYS)
    assert empty == {"things": [], "last_updated": {}}
    body = lr.list_reply("things", ITEMS, ListRequest(page=2, per_page=2), {"u": "t"}, "n", KEYS)
    assert list(body) == ["page", "perPage", "total", "things", "last_updated"]
    assert (body["total"], [i["n"] for i in body["things"]]) == (5, [3, 4])


@pytest.mark.parametrize("filters", [
    (), F, (Filter("tags", matchall=("a",)),), (Filter("state", "", ("X", "Y")),
                                               Filter("tags", matchall=("a", "b"))),
    (Filter("state"),), (Filter("tags", "a"), Filter("state", "X")),
])
def test_compiled_matcher_agrees_with_passes(filters):
    fields = {"state": lambda r: r["state"], "port": lambda r: r["port"]}
    ok = lr.matcher(filters, fields, lambda r: r["tags"])
    for state in ("", "X", "Y", "STARTED", "DEGRADED"):
        for port in ("", "3306"):
            for tags in ([], ["a"], ["a", "b"], None):
                rec = {"state": state, "port": port, "tags": tags}
                expected = lr.all_pass(filters, (("state", state), ("port", port))) and \
                    lr.tags_pass(filters, tags)
                assert ok(rec) is expected, rec
