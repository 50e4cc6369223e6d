"""Every endpoint answers bad input with a clear 4xx in the compatible envelope, never 5xx."""

import pytest

ENDPOINTS = ["/proxy/auth/login", "/proxy/auth/update", "/proxy/auth/setpassword"]
BAD_BODIES = {
    "malformed": "{\"username\": ",
    "not_object": "[1, 2]",
    "empty": "",
    "whitespace": "   ",
    "not_utf8": b"\xff\xfe{}",
    "wrong_types": "{\"username\": 5, \"password\": [], \"user\": 3, \"old_password\": {}}",
    "unknown_field": "{\"bogus\": 1}",
    "null_json": "null",
}


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_bad_bodies_get_400_error_object(harness, path, name):
    sid = harness.login()
    reply = harness.post(path, BAD_BODIES[name], sid=sid)
    assert reply.status_code == 400, reply.text
    assert reply.json["type"] == "InvalidRequest"
    assert reply.json["message"].startswith("Invalid request:")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_huge_bodies_are_capped_with_413(harness, path):
    body = "{\"username\": \"" + "a" * 200_000 + "\"}"
    reply = harness.post(path, body)
    assert reply.status_code == 413
    assert reply.json["type"] == "InvalidRequest"


def test_update_user_with_wrong_field_types(harness):
    sid = harness.login()
    reply = harness.post("/proxy/auth/update", {"user": {"username": "admin", "email": 5}},
                         sid=sid)
    assert reply.status_code == 400 and "user.email" in reply.json["message"]
    reply = harness.post("/proxy/auth/update", {"user": {"username": "admin", "x": 1}},
                         sid=sid)
    assert reply.status_code == 400 and "user.x" in reply.json["message"]


def test_fields_echoed_from_check_are_accepted(harness):
    sid = harness.login()
    reply = harness.post("/proxy/auth/update", {"user": {
        "username": "admin", "admin": True, "passwordhash": "ignored"}}, sid=sid)
    assert reply.status_code == 200
    assert harness.services.store.current().user("admin")["passwordhash"] != "ignored"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", [*ENDPOINTS, "/proxy/auth/check", "/health"])
def test_unsupported_methods_are_405_json(harness, method, path):
    reply = harness.client.simulate_request(method, path)
    assert reply.status_code == 405
    assert reply.json["type"] == "InvalidRequest"


def test_get_on_post_only_login_is_405(harness):
    assert harness.client.simulate_get("/proxy/auth/login").status_code == 405


def test_unknown_api_path_is_json_404(harness):
    reply = harness.client.simulate_post("/proxy/nothing/here")
    assert reply.status_code == 404 and reply.json["type"] == "ObjectNotFound"


def test_garbage_cookie_is_just_not_logged_in(harness):
    for value in ("x", "v1.a.b", "v1..", "v2.e30.AAAA", "\u00e9"):
        reply = harness.client.simulate_post("/proxy/auth/check", cookies={"sid": value})
        assert reply.status_code == 401
