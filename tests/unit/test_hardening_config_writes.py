"""An API write while ccmgr.yaml is invalid is a 503 with the reason, and nothing
changes (issue 18, defect 9)."""

from __future__ import annotations

from pathlib import Path


def test_write_while_the_file_is_invalid_is_503_and_changes_nothing(harness):
    sid = harness.login()
    path = Path(harness.services.store.path)
    path.write_text("users: [\n")
    reply = harness.post("/proxy/auth/update", {"user": {"username": "admin",
                                                         "email": "a@b.c"}}, sid=sid)
    assert reply.status_code == 503
    assert reply.json["request_status"] == "TryAgain"
    assert "nothing was changed" in reply.json["error_string"]
    assert path.read_text() == "users: [\n"
