"""cmonsim and ccmgr both follow real cmon's record types (issue 13 item 5)."""

from __future__ import annotations


def test_license_valid_date_is_a_boolean_from_the_controller_to_the_reply(make_api):
    api = make_api(controllers=1, clusters=1, hosts=1, seed=2)
    raw = api.post("/v2/clusters", {"operation": "getAllClusterInfo", "xid": api.xid(0),
                                    "with_license_check": True}).json  # cmonsim as sent
    assert raw["license"]["valid_date"] is True
    reply = api.post("/proxy/controllers/status", {"force_license_check": True})
    lic = reply.json["controllers"][0]["license"]
    assert lic["valid_date"] is True
    hosts = api.post("/proxy/clusters/hosts", {}).json["hosts"]
    assert hosts and all("replica" in h and h["replica"] is None for h in hosts)
