"""/v2/*any and /v2multi/*any against cmonsim (spec §2.9.1, §2.9.2; issue 13 items 1-2)."""

from __future__ import annotations

import base64
import json

import pytest
from ccmgr import accounts

from api.conftest import instance_of

ALL_INFO = {"operation": "getAllClusterInfo", "with_hosts": True}


@pytest.fixture
def api(make_api):
    return make_api(controllers=3, clusters=2, hosts=1, seed=7)


def test_by_xid_the_reply_is_the_controllers_plus_xid_keys_sorted(api):
    xid = api.xid(0)
    reply = api.post("/v2/clusters", {**ALL_INFO, "xid": xid})
    assert reply.status_code == 200
    body = reply.json
    assert body["request_status"] == "Ok" and body["xid"] == xid
    assert len(body["clusters"]) == 2
    assert list(body) == sorted(body)
    assert api.estate[0].count("clusters", "getAllClusterInfo") >= 1
    assert api.estate[1].count("clusters", "getAllClusterInfo") == 0


def test_by_controller_id(api):
    target = api.estate[1]
    reply = api.post("/v2/clusters", {**ALL_INFO, "controller_id": target.controller_id})
    assert reply.status_code == 200, reply.text
    assert reply.json["xid"] == api.xid(1)
    assert reply.json["controller_id"] == target.controller_id


def test_get_with_a_query_string_is_sent_as_post_with_that_body(api):
    target = api.estate[2]
    target.reset_counters()
    reply = api.client.simulate_get(
        "/v2/clusters", query_string=f"operation=getAllClusterInfo&xid={api.xid(2)}",
        cookies={"sid": api.sid})
    assert reply.status_code == 200, reply.text
    assert reply.json["xid"] == api.xid(2) and "clusters" in reply.json
    assert target.count("clusters", "getAllClusterInfo") == 1


@pytest.mark.parametrize(("body", "code", "status", "message"), [
    ({"operation": "ping"}, 400, "InvalidRequest", "missing xid or controller_id from request"),
    ({"operation": "ping", "xid": "no-such-controller"}, 404, "ObjectNotFound",
     "couldn't find controller with the specified id"),
    ({"operation": "ping", "controller_id": 5}, 400, "InvalidRequest",
     "missing xid or controller_id from request"),
])
def test_spec_errors_in_the_by_value_envelope(api, body, code, status, message):
    reply = api.post("/v2/clusters", body)
    assert reply.status_code == code
    assert reply.json == {"request_created": {"T": "0001-01-01T00:00:00Z"},
                          "request_processed": {"T": "0001-01-01T00:00:00Z"},
                          "request_status": status, "error_string": message}


def test_unreadable_body_and_body_limit(api):
    bad = api.post("/v2/clusters", "{not json")
    assert bad.status_code == 400
    assert bad.json["error_string"].startswith("couldn't read request body:")
    big = api.post("/v2/clusters", json.dumps({"xid": api.xid(0), "pad": "x" * 70_000}))
    assert big.status_code == 413
    climb = api.post("/v2/../proxy/x", {"xid": api.xid(0)})
    assert climb.status_code in (400, 404) and climb.status_code != 500


def test_a_down_controller_is_a_transport_error(api):
    api.estate[0].stop()
    reply = api.post("/v2/clusters", {"operation": "ping", "xid": api.xid(0)})
    assert reply.status_code == 404
    assert reply.json["request_status"] == "UnknownError"
    assert reply.json["error_string"].startswith("error while communicating to cmon:")


def test_a_controller_that_hangs_is_cut_at_the_timeout(make_api):
    api = make_api(controllers=1, clusters=1, hosts=1, timeout=1)
    api.estate[0].set_faults(mode="hang")
    reply = api.post("/v2/clusters", {"operation": "ping", "xid": api.xid(0)})
    assert reply.status_code == 404
    assert "timeout" in reply.json["error_string"]


def test_a_non_json_reply_is_relayed_as_is(api):
    api.estate[0].set_faults(mode="http500_html", modules=["clusters"])
    reply = api.post("/v2/clusters", {"operation": "ping", "xid": api.xid(0)})
    assert reply.status_code == 502
    assert reply.headers["Content-Type"].startswith("text/html")
    assert b"<html" in reply.content.lower()


def test_v2multi_over_all_controllers_with_one_down(api):
    api.estate[1].stop()
    reply = api.post("/v2multi/clusters", {"operation": "ping"})
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json
    assert set(body) == {api.xid(0), api.xid(1), api.xid(2)}
    assert body[api.xid(0)]["request_status"] == "Ok" and body[api.xid(0)]["xid"] == api.xid(0)
    assert body[api.xid(1)]["request_status"] == "UnknownError"
    assert body[api.xid(1)]["error_string"].startswith("error while communicating to cmon:")


def test_v2multi_asks_every_controller_at_once(make_api):
    """Not one after the other nor a few at a time: all 8 RPCs are at the controllers
    together (the simulator's high-water mark of RPCs in flight, not a timing)."""
    api = make_api(controllers=8, clusters=1, hosts=1, seed=3, latency=0.3)
    api.estate.reset_stats()
    reply = api.post("/v2multi/clusters", {"operation": "ping"})
    assert reply.status_code == 200, reply.text
    assert {x: r["request_status"] for x, r in reply.json.items()} == {
        api.xid(i): "Ok" for i in range(8)}
    assert api.estate.in_flight_max()["ping"] == 8


def test_v2multi_selects_by_xids_and_names_unknown_ones(api):
    reply = api.post("/v2multi/clusters", {"operation": "ping",
                                           "xids": [api.xid(2), "nosuchxid"]})
    assert set(reply.json) == {api.xid(2), "nosuchxid"}
    assert reply.json["nosuchxid"] == {"request_created": "", "request_processed": "",
                                       "request_status": "ObjectNotFound",
                                       "error_string": "No cmon found by xid."}
    query = api.client.simulate_get("/v2multi/clusters",
                                    query_string=f"operation=ping&xids={api.xid(0)},{api.xid(1)}",
                                    cookies={"sid": api.sid})
    assert set(query.json) == {api.xid(0), api.xid(1)}
    assert query.json[api.xid(0)]["request_status"] == "Ok"  # the query became the body
    bad = api.post("/v2multi/clusters", {"operation": "ping", "xids": [1, 2]})
    assert bad.status_code == 400 and bad.json["request_status"] == "InvalidRequest"


def test_v2multi_non_json_reply_is_base64(api):
    api.estate[2].set_faults(mode="http500_html", modules=["clusters"])
    reply = api.post("/v2multi/clusters", {"operation": "ping", "xids": [api.xid(2)]})
    item = reply.json[api.xid(2)]
    assert item["xid"] == api.xid(2)
    assert b"<html" in base64.b64decode(item["data"]).lower()


def test_viewers_and_anonymous_clients_are_refused(api):
    accounts.add(api.services, "vera", "Vera-pw-1", role="viewer")
    anon = api.client.simulate_post("/v2/clusters", body="{}")
    assert anon.status_code == 401 and anon.json["request_status"] == "AuthRequired"
    assert api.login("vera", "Vera-pw-1").status_code == 200
    api.estate[0].reset_counters()
    for path in ("/v2/clusters", "/v2multi/clusters"):
        reply = api.post(path, {"operation": "ping", "xid": api.xid(0)})
        assert reply.status_code == 403
        assert reply.json["request_status"] == "AccessDenied"
    assert api.estate[0].count("clusters") == 0


def test_api_tokens_pass_through_by_role(api):
    """A Bearer token acts as its role on /v2 and /v2multi as on /proxy (issue 13 item 8)."""
    admin, _ = accounts.create_token(api.services, "automation", "admin", None)
    viewer, _ = accounts.create_token(api.services, "grafana", "viewer", None)
    api.estate[0].reset_counters()
    for path in ("/v2/clusters", "/v2multi/clusters"):
        body = json.dumps({"operation": "ping", "xid": api.xid(0), "xids": [api.xid(0)]})
        allowed = api.client.simulate_post(path, body=body,
                                           headers={"Authorization": f"Bearer {admin}"})
        assert allowed.status_code == 200, allowed.text
        refused = api.client.simulate_post(path, body=body,
                                           headers={"Authorization": f"Bearer {viewer}"})
        assert refused.status_code == 403 and refused.json["request_status"] == "AccessDenied"
    assert api.estate[0].count("clusters", "ping") == 2  # the admin token's two calls only


def test_local_users_use_the_service_credentials(api):
    accounts.add(api.services, "ops", "Ops-pw-1")
    assert api.login("ops", "Ops-pw-1").status_code == 200
    assert api.post("/v2/clusters", {"operation": "ping", "xid": api.xid(0)}).status_code == 200
    callers = api.estate[0].callers()
    assert callers.get(("/v2/clusters", api.estate[0].username), 0) >= 1


def test_an_ldap_users_pass_through_uses_their_own_controller_session(make_api, cmon_estate):
    estate = cmon_estate(controllers=2, clusters=1, hosts=1, seed=4, ldap=[1])
    static, ldap = estate[0], estate[1]
    instances = [instance_of(static), {"xid": instance_of(ldap)["xid"], "url": ldap.url,
                                       "name": ldap.name, "useldap": True}]
    api = make_api(estate, instances=instances)
    user, password = ldap.ldap_users[0]
    assert api.login(user, password).status_code == 200
    ldap.reset_counters()
    reply = api.post("/v2/clusters", {**ALL_INFO, "xid": api.xid(1)})
    assert reply.status_code == 200, reply.text
    assert reply.json["xid"] == api.xid(1)
    assert ldap.callers() == {("/v2/clusters", user): 1}
    multi = api.post("/v2multi/clusters", {"operation": "ping"}).json
    assert multi[api.xid(0)]["request_status"] == "Ok"
    assert multi[api.xid(1)]["request_status"] == "Ok"
    assert ldap.callers()[("/v2/clusters", user)] == 2
    assert static.callers().get(("/v2/clusters", user), 0) == 0  # static: service identity


def test_the_pass_through_works_while_a_ui_is_installed(api, tmp_path):
    ui = tmp_path / "ui"
    ui.mkdir()
    (ui / "index.html").write_text("<!doctype html><title>ui</title>")

    def install(doc):
        doc["frontend_path"] = str(ui)
    api.services.store.update(install)
    page = api.client.simulate_get("/clusters/overview")  # an SPA route: the UI's index
    assert page.status_code == 200 and "<title>ui</title>" in page.text
    for path in ("/v2multi/clusters", "/v2/clusters"):
        reply = api.post(path, {"operation": "ping", "xid": api.xid(0)})
        assert reply.status_code == 200, (path, reply.text)
        assert reply.headers["Content-Type"].startswith("application/json")
