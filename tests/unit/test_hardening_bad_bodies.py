"""Bodies that json.loads takes but later code cannot: deep nesting, huge integers, lone
surrogates. Every POST endpoint answers 400 with the compatible envelope and logs no
traceback (issue 18, defect 3)."""

from __future__ import annotations

import logging

import pytest
from ccmgr.resources.aggregates import ENDPOINTS

DEEP = '{"username": ' + "[" * 1000 + "]" * 1000 + "}"
HUGE = '{"username": ' + "7" * 5000 + "}"
BAD_BODIES = {"deep": DEEP, "huge": HUGE, "surrogate": '{"username": "\\ud800"}'}
PARSING = ["/proxy/auth/login", "/proxy/auth/update", "/proxy/auth/setpassword",
           "/proxy/controllers/test", "/proxy/controllers/add", "/proxy/controllers/update",
           "/proxy/controllers/remove", *ENDPOINTS]
OTHERS = ["/proxy/auth/check", "/proxy/auth/logout", "/proxy/admin/reload",
          "/proxy/controllers/status"]
SURROGATE_FIELDS = {
    "/proxy/controllers/test": '{"controller": {"url": "127.0.0.1:9", "name": "x\\ud800"}}',
    "/proxy/controllers/add": '{"controller": {"url": "127.0.0.1:9", "name": "\\udfff"}}',
    "/proxy/auth/update": '{"user": {"username": "admin", "firstname": "\\ud800"}}',
}


@pytest.fixture(autouse=True)
def _see_ccmgr_records(caplog):
    # logsetup.configure (run by other tests' CLI calls) stops propagation to the root
    # logger, where caplog listens: listen on ccmgr's own logger as well.
    logger = logging.getLogger("ccmgr")
    logger.addHandler(caplog.handler)
    yield
    logger.removeHandler(caplog.handler)


def assert_envelope_400(reply) -> None:
    assert reply.status_code == 400, (reply.status_code, reply.text[:300])
    body = reply.json
    assert body.get("type") == "InvalidRequest" or body.get("request_status") == "InvalidRequest"


def no_tracebacks(caplog) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("kind", BAD_BODIES)
@pytest.mark.parametrize("path", PARSING)
def test_bad_body_is_400_on_every_parsing_endpoint(harness, caplog, path, kind):
    sid = None if path == "/proxy/auth/login" else harness.login()
    assert_envelope_400(harness.post(path, BAD_BODIES[kind], sid=sid))
    no_tracebacks(caplog)


@pytest.mark.parametrize("kind", BAD_BODIES)
def test_bad_body_on_anonymous_login_is_400(harness, caplog, kind):
    assert_envelope_400(harness.post("/proxy/auth/login", BAD_BODIES[kind]))
    no_tracebacks(caplog)


@pytest.mark.parametrize("path", OTHERS)
def test_endpoints_that_ignore_the_body_never_fail_on_it(harness, caplog, path):
    sid = harness.login()
    for body in BAD_BODIES.values():
        assert harness.post(path, body, sid=sid).status_code < 500
    no_tracebacks(caplog)


@pytest.mark.parametrize("path", SURROGATE_FIELDS)
def test_lone_surrogate_in_a_name_or_profile_field_is_400(harness, caplog, path):
    assert_envelope_400(harness.post(path, SURROGATE_FIELDS[path], sid=harness.login()))
    no_tracebacks(caplog)
    assert harness.services.store.current().doc.get("instances") in (None, [])
