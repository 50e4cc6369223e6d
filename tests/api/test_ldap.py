"""LDAP forwarding (spec §2.5.2): useldap controllers get the user's own login."""

from __future__ import annotations

import json

import pytest

from api.conftest import instance_of


@pytest.fixture
def ldap_api(make_api, cmon_estate):
    estate = cmon_estate(controllers=2, clusters=2, hosts=1, seed=4, ldap=[1])
    static, ldap = estate[0], estate[1]
    instances = [instance_of(static),
                 {"xid": instance_of(ldap)["xid"], "url": ldap.url, "name": ldap.name,
                  "useldap": True}]
    return make_api(estate, instances=instances)


def _statuses(api):
    return {c["controller_name"]: c for c in
            api.post("/proxy/controllers/status", {}).json["controllers"]}


def test_local_user_cannot_reach_ldap_controllers(ldap_api):
    statuses = _statuses(ldap_api)
    static, ldap = ldap_api.estate[0], ldap_api.estate[1]
    assert statuses[static.name]["status"] == "ok"
    assert statuses[ldap.name]["status"] == "authentication-error"
    assert statuses[ldap.name]["status_message"] == "LDAP authentication failed."
    assert statuses[ldap.name]["ldap"] is True
    clusters = ldap_api.post("/proxy/clusters/status", {}).json
    assert set(clusters["clusters_count"]) == {static.url}
    assert ldap.count("auth") == 0  # no credentials: no login attempted


def test_ldap_login_is_forwarded_and_uses_the_users_own_sessions(ldap_api):
    ldap = ldap_api.estate[1]
    user, password = ldap.ldap_users[0]
    wrong = ldap_api.login(user, "not-the-password")
    assert wrong.status_code == 401
    reply = ldap_api.login(user, password)
    assert reply.status_code == 200, reply.text
    assert reply.json["user"]["username"] == user
    assert reply.json["user"]["ldap"] is True
    assert password not in reply.text
    check = ldap_api.post("/proxy/auth/check", {})
    assert check.json["user"]["username"] == user
    statuses = _statuses(ldap_api)
    assert statuses[ldap.name]["status"] == "ok"
    assert statuses[ldap.name]["status_message"] == "LDAP authentication ok."
    clusters = ldap_api.post("/proxy/clusters/status", {}).json
    assert set(clusters["clusters_count"]) == {c.url for c in ldap_api.estate}
    # the login's controller session was kept: one LDAP login on that controller in all
    assert ldap.count("auth", "authenticateWithPassword") == 2  # the wrong one + the right one


@pytest.mark.parametrize(("path", "verb"), [("/proxy/controllers/add", "add"),
                                            ("/proxy/controllers/update", "update"),
                                            ("/proxy/controllers/remove", "remove")])
def test_ldap_users_cannot_change_controllers(ldap_api, path, verb):
    user, password = ldap_api.estate[1].ldap_users[0]
    assert ldap_api.login(user, password).status_code == 200
    body = {"xid": ldap_api.xid(0)} if verb == "remove" else {"controller": {
        "xid": ldap_api.xid(0), "url": "127.0.0.1:9/x", "username": "u", "password": "p"}}
    reply = ldap_api.post(path, body)
    assert reply.status_code == 403
    assert reply.json == {"type": "UnknownError", "message": f"LDAP users cant {verb} controllers"}
    assert len(ldap_api.instances) == 2


def test_ldap_session_survives_an_expired_controller_session(ldap_api):
    ldap = ldap_api.estate[1]
    user, password = ldap.ldap_users[0]
    assert ldap_api.login(user, password).status_code == 200
    assert ldap_api.post("/proxy/clusters/list", {}).json["total"] == 4
    ldap.expire_sessions()
    body = ldap_api.post("/proxy/clusters/list", {"force_update": True}).json
    assert body["total"] == 4
    assert json.dumps(body).count(ldap.url) >= 2
