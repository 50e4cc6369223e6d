"""A controller that says "session gone" only in the body (HTTP 200, request_status
AuthRequired) is logged in to again, once, as on HTTP 401, for every data kind
(issue 18, defect 5)."""

from __future__ import annotations

import pytest
from ccmgr.resources.aggregates import ENDPOINTS


def controller_status(api) -> dict:
    return api.get("/proxy/controllers/status").json["controllers"][0]


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_body_only_session_expiry_logs_in_again(make_api, path):
    api = make_api(controllers=1, clusters=2, hosts=1)
    ctl = api.estate[0]
    ctl.set_faults(status_codes="always200")  # every reply HTTP 200, expiry in the body only
    assert api.post(path, {"force_update": True}).status_code == 200
    logins = ctl.count("auth", "authenticateWithPassword")
    ctl.expire_sessions()
    reply = api.post(path, {"force_update": True})
    assert reply.status_code == 200
    assert reply.headers.get("X-Ccmgr-Failed", "") == ""
    status = controller_status(api)
    assert status["status"] == "ok", status["status_message"]
    assert status["status_message"] == ""
    assert ctl.count("auth", "authenticateWithPassword") == logins + 1
