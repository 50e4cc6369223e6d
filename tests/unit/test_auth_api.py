import hashlib
import json
import os
from pathlib import Path

import pytest
import yaml
from ccmgr.app import create_app
from ccmgr.runtime import Services
from falcon import testing


def envelope_keys(body):
    return {"request_created", "request_processed", "request_status"} <= set(body)


def test_first_start_creates_admin_with_password_in_private_file(harness):
    path = harness.services.admin_password_file
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert Path(path).read_text().strip() == harness.admin_password
    assert [u["username"] for u in harness.services.store.current().users] == ["admin"]


def test_login_success_sets_secure_httponly_cookie(harness):
    reply = harness.post("/proxy/auth/login", {"username": "admin",
                                               "password": harness.admin_password})
    assert reply.status_code == 200
    assert envelope_keys(reply.json)
    assert reply.json["request_status"] == "Ok"
    assert reply.json["user"] == {"username": "admin", "role": "admin"}
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith("sid=") and "HttpOnly" in cookie and "Secure" in cookie
    assert "SameSite=Strict" in cookie and "Path=/" in cookie


@pytest.mark.parametrize("body", [{"username": "admin", "password": "wrong"},
                                  {"username": "nobody", "password": "x"},
                                  {"username": "", "password": ""}, {}])
def test_login_failure_is_401_access_denied_without_cookie(harness, body):
    reply = harness.post("/proxy/auth/login", body)
    assert reply.status_code == 401
    assert reply.json["request_status"] == "AccessDenied"
    assert reply.json["error_string"] == "User not found or wrong password"
    assert "set-cookie" not in reply.headers


def test_failed_logins_are_rate_limited_per_client(harness):
    for _ in range(10):
        assert harness.post("/proxy/auth/login", {"username": "admin",
                                                  "password": "x"}).status_code == 401
    blocked = harness.post("/proxy/auth/login", {"username": "admin",
                                                 "password": harness.admin_password})
    assert blocked.status_code == 429
    assert blocked.json["request_status"] == "AccessDenied"
    other = harness.client.simulate_post(
        "/proxy/auth/login", remote_addr="10.9.9.9",
        body=json.dumps({"username": "nobody", "password": "x"}))
    assert other.status_code == 401  # another address is not blocked (admin is: per user)


def test_forwarded_for_from_untrusted_peer_cannot_dodge_the_limit(harness):
    for i in range(10):
        harness.client.simulate_post("/proxy/auth/login", headers={"X-Forwarded-For": f"1.1.1.{i}"},
                                     body=json.dumps({"username": "admin", "password": "x"}))
    reply = harness.client.simulate_post(
        "/proxy/auth/login", headers={"X-Forwarded-For": "1.1.1.99"},
        body=json.dumps({"username": "admin", "password": harness.admin_password}))
    assert reply.status_code == 429


def test_check_with_and_without_session(harness):
    sid = harness.login()
    ok = harness.post("/proxy/auth/check", sid=sid)
    assert ok.status_code == 200 and ok.json["user"] == {"username": "admin", "role": "admin"}
    get = harness.client.simulate_get("/proxy/auth/check", cookies={"sid": sid})
    assert get.status_code == 200
    anon = harness.post("/proxy/auth/check")
    assert anon.status_code == 401
    assert anon.json["request_status"] == "AuthRequired"
    assert anon.json["error_string"] == "not authenticated"


def test_logout_revokes_and_clears_cookie_with_value_quirk(harness):
    sid = harness.login()
    reply = harness.post("/proxy/auth/logout", sid=sid)
    assert reply.status_code == 200
    assert reply.json == {"request_created": {"T": "0001-01-01T00:00:00Z"},
                          "request_processed": {"T": "0001-01-01T00:00:00Z"},
                          "request_status": "Ok"}
    assert "Max-Age=0" in reply.headers["set-cookie"]
    assert harness.post("/proxy/auth/check", sid=sid).status_code == 401
    assert harness.post("/proxy/auth/logout").status_code == 200


def test_update_profile_is_persisted(harness):
    sid = harness.login()
    reply = harness.post("/proxy/auth/update", {"user": {
        "username": "admin", "email": "ops@example.com", "firstname": "Ada"}}, sid=sid)
    assert reply.status_code == 200
    assert reply.json["user"] == {"username": "admin", "email": "ops@example.com",
                                  "firstname": "Ada", "role": "admin"}
    on_disk = yaml.safe_load(Path(harness.services.store.path).read_text())["users"][0]
    assert on_disk["email"] == "ops@example.com"
    assert on_disk["passwordhash"].startswith("$pbkdf2-sha256$")


def test_update_refusals(harness):
    sid = harness.login()
    anon = harness.post("/proxy/auth/update", {"user": {"username": "admin"}})
    assert anon.status_code == 401 and anon.json["error_string"] == "not authenticated"
    other = harness.post("/proxy/auth/update", {"user": {"username": "root"}}, sid=sid)
    assert other.status_code == 401 and other.json["error_string"] == "wrong username"
    bad = harness.post("/proxy/auth/update", {"user": {"username": "admin", "email": "nope"}},
                       sid=sid)
    assert bad.status_code == 400 and bad.json["error_string"] == "wrong user: invalid e-mail"
    missing = harness.post("/proxy/auth/update", {}, sid=sid)
    assert missing.status_code == 400 and missing.json["type"] == "InvalidRequest"


def test_setpassword_persists_and_revokes_other_sessions(harness):
    first = harness.login()
    second = harness.login()
    reply = harness.post("/proxy/auth/setpassword", {"old_password": harness.admin_password,
                                                     "new_password": "n3w-pass"}, sid=first)
    assert reply.status_code == 200 and reply.json["user"] == {"username": "admin", "role": "admin"}
    fresh = reply.cookies["sid"].value
    assert harness.post("/proxy/auth/check", sid=second).status_code == 401
    assert harness.post("/proxy/auth/check", sid=first).status_code == 401
    assert harness.post("/proxy/auth/check", sid=fresh).status_code == 200
    assert harness.login("admin", "n3w-pass")
    assert not os.path.exists(harness.services.admin_password_file)
    restarted = testing.TestClient(create_app(Services.from_basedir(harness.services.basedir)))
    assert restarted.simulate_post("/proxy/auth/check", cookies={"sid": fresh}).status_code == 200


def test_setpassword_refusals(harness):
    sid = harness.login()
    anon = harness.post("/proxy/auth/setpassword", {"old_password": "x", "new_password": "y"})
    assert anon.status_code == 401 and anon.json["request_status"] == "AuthRequired"
    wrong = harness.post("/proxy/auth/setpassword", {"old_password": "x", "new_password": "y"},
                         sid=sid)
    assert wrong.status_code == 401 and wrong.json["error_string"] == "wrong old password"
    assert wrong.json["user"] == {"username": "admin", "role": "admin"}
    empty = harness.post("/proxy/auth/setpassword", {"old_password": harness.admin_password,
                                                     "new_password": ""}, sid=sid)
    assert empty.status_code == 400 and empty.json["error_string"] == "invalid new password"


def test_cmon_proxy_hash_logs_in_and_is_upgraded(harness):
    salt = bytes.fromhex("0102030405060708")
    key = hashlib.pbkdf2_hmac("sha256", b"legacy-pw", salt, 3000, 32).hex()
    legacy = f"{salt.hex()}:3000:{key}"
    harness.services.store.update(
        lambda doc: doc["users"].append({"username": "old", "passwordhash": legacy}))
    assert harness.login("old", "legacy-pw")
    upgraded = harness.services.store.current().user("old")["passwordhash"]
    assert upgraded.startswith("$pbkdf2-sha256$")
    assert harness.login("old", "legacy-pw")


def test_session_of_dropped_user_is_refused(harness):
    harness.services.store.update(lambda doc: doc["users"].append(
        {"username": "temp", "passwordhash": harness.services.store.current().user(
            "admin")["passwordhash"]}))
    sid = harness.login("temp", harness.admin_password)
    harness.services.store.update(lambda doc: doc.__setitem__(
        "users", [u for u in doc["users"] if u["username"] != "temp"]))
    assert harness.post("/proxy/auth/check", sid=sid).status_code == 401


def test_health_reports_node_without_secrets(harness):
    reply = harness.client.simulate_get("/health")
    assert reply.status_code == 200
    body = reply.json
    assert set(body) >= {"status", "node", "role", "generation", "sha256", "epoch"}
    assert body["role"] == "primary" and body["generation"] >= 1
    text = reply.text
    assert "passwordhash" not in text and harness.admin_password not in text
    assert reply.headers["x-ccmgr-node"] == body["node"]


def test_health_is_503_when_config_cannot_be_loaded(basedir):
    (basedir / "ccmgr.yaml").write_text("port: [\n")
    client = testing.TestClient(create_app(Services.from_basedir(str(basedir))))
    reply = client.simulate_get("/health")
    assert reply.status_code == 503
    assert reply.json["request_status"] == "TryAgain"


def test_reload_needs_a_session_or_the_local_token(harness):
    anon = harness.post("/proxy/admin/reload")
    assert anon.status_code == 401 and anon.json["request_status"] == "AuthRequired"
    sid = harness.login()
    assert harness.post("/proxy/admin/reload", sid=sid).status_code == 200
    from ccmgr.reloadtoken import RELOAD_PURPOSE, RELOAD_TOKEN_HEADER
    token = harness.services.secret.derive(RELOAD_PURPOSE)
    local = harness.post("/proxy/admin/reload", headers={RELOAD_TOKEN_HEADER: token})
    assert local.status_code == 200
    remote = harness.client.simulate_post("/proxy/admin/reload", remote_addr="10.1.1.1",
                                          headers={RELOAD_TOKEN_HEADER: token})
    assert remote.status_code == 401
    wrong = harness.post("/proxy/admin/reload", headers={RELOAD_TOKEN_HEADER: "0" * 64})
    assert wrong.status_code == 401


def test_reload_of_invalid_file_keeps_serving_and_says_why(harness):
    sid = harness.login()
    with open(harness.services.store.path, "a") as f:
        f.write("port: [\n")
    reply = harness.post("/proxy/admin/reload", sid=sid)
    assert reply.status_code == 400
    assert "still serving the previous one" in reply.json["error_string"]
    assert harness.post("/proxy/auth/check", sid=sid).status_code == 200
    assert "warnings" in harness.client.simulate_get("/health").json
