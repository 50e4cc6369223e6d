"""/proxy/controllers/*: statuses for every simulator fault, test/add/update/remove."""

from __future__ import annotations

import json
import re
import time

import pytest
import yaml
from cmonsim.tlscert import self_signed_pem

from api.conftest import instance_of

XID = re.compile(r"^[0-9a-v]{20}$")
# refused, or reset/closed when the simulator drops its listener while we connect
DOWN = r"connection (refused|reset)|Connection aborted|Remote end closed"


def _by_url(reply: dict) -> dict:
    return {c["url"]: c for c in reply["controllers"]}


FAULTS = [
    ({"mode": "refused"}, "failed", "Post \"https://127.0.0.1:"),
    ({"mode": "hang"}, "failed", "no reply within"),
    ({"mode": "reset"}, "failed", "Post \"https://"),
    ({"mode": "http500"}, "failed", "UnknownError"),
    ({"mode": "http500_html"}, "failed", "not a JSON reply"),
    ({"mode": "http500_empty"}, "failed", "not a JSON reply"),
    ({"mode": "bad_json"}, "failed", "not a JSON reply"),
    ({"mode": "empty_json"}, "failed", "without request_status"),
    ({"mode": "tls_fail"}, "failed", "TLS"),
    ({"mode": "try_again"}, "failed", "TryAgain"),
    ({"wrong_credentials": True}, "authentication-error",
     "AccessDenied: Username or password is incorrect."),
]


@pytest.mark.parametrize(("fault", "status", "message"), FAULTS,
                         ids=[next(iter(f[0].values())) if "mode" in f[0] else "wrong_credentials"
                              for f in FAULTS])
def test_each_fault_shows_in_status_while_the_other_controller_answers(
        make_api, fault, status, message):
    api = make_api(controllers=2, clusters=2, hosts=1, seed=5, timeout=2)
    good, bad = api.estate[0], api.estate[1]
    bad.set_faults(**fault)  # after start: a controller started "refused" has no port yet
    started = time.monotonic()
    reply = api.post("/proxy/controllers/status", {})
    elapsed = time.monotonic() - started
    assert reply.status_code == 200
    statuses = _by_url(reply.json)
    assert statuses[good.url]["status"] == "ok"
    assert statuses[good.url]["version"] == good.version
    assert statuses[good.url]["controller_id"] == good.controller_id
    assert statuses[bad.url]["status"] == status
    assert message in statuses[bad.url]["status_message"]
    assert statuses[bad.url]["last_seen"] == ""
    assert elapsed < 2 + 1.5  # never beyond the configured timeout (plus slack)
    # The healthy controller's data still arrive; the broken one is simply absent.
    clusters = api.post("/proxy/clusters/status", {}).json
    assert set(clusters["clusters_count"]) == {good.url}


def test_status_object_keys_and_recovery_clears_the_message(make_api):
    api = make_api(controllers=1, clusters=1, hosts=1, timeout=2, cache_ttl=0.2)
    ctl = api.estate[0]
    ctl.stop()  # not faults={0: refused}: a controller started refused has no port yet
    first = api.get("/proxy/controllers/status")
    assert first.status_code == 200  # a bodiless GET works (cmon-proxy answers 400 there)
    status = first.json["controllers"][0]
    assert list(status) == ["xid", "controller_id", "controller_name", "url", "version",
                            "status_message", "ldap", "status", "last_updated", "last_seen",
                            "license", "license_check", "login"]  # cmon-proxy's, then ccmgr's
    assert status["status"] == "failed" and status["xid"] == api.xid(0)
    ctl.start()
    reply = api.post("/proxy/controllers/status", {"force_update": True,
                                                   "force_license_check": True})
    status = reply.json["controllers"][0]
    assert status["status"] == "ok"
    assert status["status_message"] == ""
    assert status["last_seen"] == status["last_updated"] != ""
    assert status["license"]["company"] == ctl.data()["license"]["company"]
    assert status["license_check"]["has_license"] is True


def test_expired_controller_session_is_renewed_once(make_api):
    api = make_api(controllers=1, clusters=2, hosts=1)
    ctl = api.estate[0]
    assert api.post("/proxy/clusters/list", {}).json["total"] == 2
    assert ctl.count("auth", "authenticateWithPassword") == 1
    ctl.expire_sessions()
    reply = api.post("/proxy/clusters/list", {"force_update": True})
    assert reply.json["total"] == 2
    assert ctl.count("auth", "authenticateWithPassword") == 2


def test_hung_controller_delays_only_the_first_reply(make_api):
    api = make_api(controllers=2, clusters=1, hosts=1, timeout=1)
    api.estate[1].set_faults(mode="hang")
    started = time.monotonic()
    api.post("/proxy/clusters/status", {})
    first = time.monotonic() - started
    time.sleep(0.2)
    started = time.monotonic()
    reply = api.post("/proxy/clusters/status", {})
    second = time.monotonic() - started
    assert reply.status_code == 200 and len(reply.json["clusters_count"]) == 1
    assert first < 2.0
    assert second < 0.5  # the failure is cached; no new wait


def test_ca_file_verifies_the_controller_certificate(make_api, cmon_estate, tmp_path,
                                                     monkeypatch):
    cert, key = self_signed_pem(["127.0.0.1"])
    (tmp_path / "sim.crt").write_bytes(cert)
    (tmp_path / "sim.key").write_bytes(key)
    other, _ = self_signed_pem(["127.0.0.1"])
    (tmp_path / "other.crt").write_bytes(other)
    estate = cmon_estate(controllers=1, clusters=1, hosts=1,
                         cert_file=str(tmp_path / "sim.crt"), key_file=str(tmp_path / "sim.key"))
    ctl = estate[0]
    # A CA bundle from the environment must never leak into controller calls.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "other.crt"))
    api = make_api(estate, instances=[
        instance_of(ctl, name="trusted", ca_file=str(tmp_path / "sim.crt")),
        instance_of(ctl, name="wrong-ca", url=ctl.url + "/", ca_file=str(tmp_path / "other.crt")),
        instance_of(ctl, name="unverified", url=ctl.url + "//"),
        instance_of(ctl, name="missing-ca", url=ctl.url + "///",
                    ca_file=str(tmp_path / "nope.crt")),
    ])
    statuses = {c["controller_name"]: c for c in
                api.post("/proxy/controllers/status", {}).json["controllers"]}
    assert statuses["trusted"]["status"] == "ok"
    assert statuses["unverified"]["status"] == "ok"
    assert statuses["wrong-ca"]["status"] == "failed"
    assert "TLS" in statuses["wrong-ca"]["status_message"]
    assert statuses["missing-ca"]["status"] == "failed"
    assert "ca_file" in statuses["missing-ca"]["status_message"]


def test_controller_test_reports_version_and_auth_errors(make_api):
    api = make_api(controllers=2, clusters=1, hosts=1)
    good, down = api.estate[0], api.estate[1]
    down.stop()
    reply = api.post("/proxy/controllers/test", {"controller": {
        "url": good.url, "name": "t", "username": good.username, "password": good.password}})
    assert reply.status_code == 200
    status = reply.json["controller"]
    assert (status["status"], status["version"], status["controller_id"]) == (
        "ok", good.version, good.controller_id)
    assert status["xid"] == ""
    wrong = api.post("/proxy/controllers/test", {"controller": {
        "url": good.url, "username": good.username, "password": "nope"}}).json["controller"]
    assert wrong["status"] == "authentication-error"
    assert wrong["status_message"] == "AccessDenied: Username or password is incorrect."
    refused = api.post("/proxy/controllers/test", {"controller": {
        "url": down.url, "username": "u", "password": "p"}}).json["controller"]
    assert refused["status"] == "failed"
    assert re.search(DOWN, refused["status_message"])
    assert "nope" not in json.dumps(wrong) and good.password not in reply.text
    bad = api.post("/proxy/controllers/test", {})
    assert (bad.status_code, bad.json) == (400, {"type": "InvalidRequest",
                                                 "message": "Invalid request."})


def test_add_update_remove_round_trip(make_api, basedir):
    api = make_api(controllers=2, clusters=1, hosts=1, instances=[])
    a, b = api.estate[0], api.estate[1]
    body = {"controller": {"url": a.url, "name": "first", "username": a.username,
                           "password": a.password, "frontend_url": "https://ui.example"}}
    added = api.post("/proxy/controllers/add", body)
    assert added.status_code == 200, added.text
    status = added.json["controller"]
    assert XID.match(status["xid"]) and status["status"] == "ok"
    assert status["frontend_url"] == "https://ui.example"
    assert a.password not in added.text
    on_disk = yaml.safe_load((basedir / "ccmgr.yaml").read_text())["instances"]
    assert [(i["xid"], i["url"], i["password"]) for i in on_disk] == [
        (status["xid"], a.url, a.password)]

    dup = api.post("/proxy/controllers/add", body)
    assert (dup.status_code, dup.json) == (425, {"type": "TryAgain", "message": "duplicated URL"})
    missing = api.post("/proxy/controllers/add", {"controller": {"url": b.url}})
    assert (missing.status_code, missing.json["message"]) == (400, "missing username")
    down = api.post("/proxy/controllers/add", {"controller": {
        "url": "127.0.0.1:9/api", "username": "u", "password": "secret-pw"}})
    assert down.status_code == 200 and down.json["controller"]["status"] == "failed"
    assert "secret-pw" not in down.text

    xid = status["xid"]
    renamed = api.post("/proxy/controllers/update", {"controller": {
        "xid": xid, "url": a.url, "name": "renamed", "username": a.username}})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json["controller"]["controller_name"] == "renamed"
    assert renamed.json["controller"]["status"] == "ok"  # the stored password was kept
    assert api.post("/proxy/controllers/update", {"controller": {"url": a.url}}).status_code == 400
    unknown = api.post("/proxy/controllers/update", {"controller": {
        "xid": "c" * 20, "url": b.url, "username": "u", "password": "p"}})
    assert (unknown.status_code, unknown.json) == (404, {"type": "ObjectNotFound",
                                                         "message": "Controller not found"})
    taken = api.post("/proxy/controllers/update", {"controller": {
        "xid": xid, "url": "127.0.0.1:9/api", "username": "u", "password": "p"}})
    assert taken.status_code == 425

    statuses = api.post("/proxy/controllers/status", {}).json["controllers"]
    assert {c["controller_name"] for c in statuses} == {"renamed", "127.0.0.1"}
    assert a.password not in json.dumps(statuses)

    assert api.post("/proxy/controllers/remove", {}).json == {
        "type": "InvalidRequest", "message": "Invalid request."}
    gone = api.post("/proxy/controllers/remove", {"xid": "c" * 20})
    assert (gone.status_code, gone.json["message"]) == (404, "controller not found")
    removed = api.post("/proxy/controllers/remove", {"xid": xid})
    assert removed.json == {"type": "Ok", "message": "The controller is removed."}
    assert api.post("/proxy/controllers/remove", {"url": "127.0.0.1:9/api"}).status_code == 200
    assert yaml.safe_load((basedir / "ccmgr.yaml").read_text())["instances"] in (None, [])
    assert api.post("/proxy/controllers/status", {}).json == {"controllers": []}


def test_controller_endpoints_need_a_session(make_api):
    api = make_api(login=False, instances=[])
    for path in ("/proxy/controllers/status", "/proxy/controllers/add",
                 "/proxy/clusters/list"):
        reply = api.post(path, {})
        assert reply.status_code == 401
        assert reply.json["request_status"] == "AuthRequired"
        assert reply.json["error_string"] == "authentication is required"


def test_key_based_login_with_a_keyfile(make_api, cmon_estate, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    estate = cmon_estate(controllers=4, clusters=2, hosts=1)
    keyfile = tmp_path / "cmon.key"
    keyfile.write_text(estate.private_key_pem())
    keyfile.chmod(0o600)
    wrong = tmp_path / "ec.key"  # a valid PEM key, but not RSA
    wrong.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))

    def keyed(ctl, path):
        return instance_of(ctl, password="", keyfile=str(path))

    api = make_api(estate, instances=[keyed(estate[0], keyfile),
                                      keyed(estate[1], tmp_path / "missing.key"),
                                      keyed(estate[2], wrong),
                                      keyed(estate[3], keyfile)])
    estate[3].set_faults(wrong_credentials=True)
    statuses = _by_url(api.post("/proxy/controllers/status", {}).json)
    assert statuses[estate[0].url]["status"] == "ok"
    assert statuses[estate[0].url]["controller_id"] == estate[0].controller_id
    assert estate[0].count("/v2/auth", "authenticate") == 1
    assert estate[0].count("/v2/auth", "authenticateresponse") == 1
    assert [statuses[c.url]["status"] for c in estate[1:]] == ["authentication-error"] * 3
    assert statuses[estate[1].url]["status_message"] == \
        "cannot read the keyfile: No such file or directory"
    assert statuses[estate[2].url]["status_message"] == "keyfile: not an RSA key"
    assert statuses[estate[3].url]["status_message"] == \
        "AccessDenied: Username or password is incorrect."
    clusters = api.post("/proxy/clusters/status", {}).json
    assert set(clusters["clusters_count"]) == {estate[0].url}
    tested = api.post("/proxy/controllers/test", {"controller": {
        "url": estate[0].url, "username": estate[0].username,
        "keyfile": str(keyfile)}}).json["controller"]
    assert (tested["status"], tested["version"]) == ("ok", estate[0].version)
    assert "keyfile" not in tested and str(tmp_path) not in json.dumps(statuses)
