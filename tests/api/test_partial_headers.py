"""X-Ccmgr-Controllers / X-Ccmgr-Failed on aggregate replies; bodies unchanged."""

from __future__ import annotations

import pytest
from ccmgr.resources.aggregates import ENDPOINTS
from cmonsim.testing import start_estate


@pytest.fixture(scope="module")
def estate():
    with start_estate(controllers=3, clusters=2, hosts=1, seed=9) as e:
        yield e


def test_every_aggregate_names_who_answered(make_api, estate):
    api = make_api(estate, cache_ttl=0.2)
    for path in ENDPOINTS:
        reply = api.post(path, {"force_update": True})
        assert reply.status_code == 200, path
        assert reply.headers["X-Ccmgr-Controllers"] == "3/3", path
        assert "X-Ccmgr-Failed" not in reply.headers, path


def test_a_down_controller_is_named_and_the_body_is_unchanged(make_api, estate):
    api = make_api(estate, cache_ttl=0.2)
    before = api.post("/proxy/clusters/list", {"force_update": True})
    estate[1].stop()
    try:
        reply = api.post("/proxy/clusters/list", {"force_update": True})
        assert reply.headers["X-Ccmgr-Controllers"] == "2/3"
        assert reply.headers["X-Ccmgr-Failed"] == api.xid(1)
        assert set(reply.json) == set(before.json)  # the same keys, the stale data kept
        status = api.get("/proxy/alarms/status")
        assert status.headers["X-Ccmgr-Failed"] == api.xid(1)
    finally:
        estate[1].start()
    reply = api.post("/proxy/clusters/list", {"force_update": True})
    assert reply.headers["X-Ccmgr-Controllers"] == "3/3"
    assert "X-Ccmgr-Failed" not in reply.headers
