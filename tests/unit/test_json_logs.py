"""log_format json: every line parses, carries the request id, holds no secret."""

from __future__ import annotations

import json
import logging

import pytest
from ccmgr import logsetup
from ccmgr.config.store import read_config
from daemonkit import write_config


@pytest.fixture
def json_log(tmp_path):
    path = tmp_path / "ccmgr.json.log"
    logsetup.configure(str(path), fmt="json", node="node-j", stderr=False)
    yield path
    logsetup.configure(None, stderr=False)
    logging.getLogger("ccmgr").handlers.clear()


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_lines_parse_and_carry_the_request_id(harness, json_log):
    reply = harness.client.simulate_get("/proxy/auth/check",
                                        headers={"X-Request-Id": "rid-abc.123"})
    assert reply.headers["X-Request-Id"] == "rid-abc.123"
    made = harness.client.simulate_get("/proxy/auth/check").headers["X-Request-Id"]
    assert len(made) == 32
    odd = harness.client.simulate_get("/proxy/auth/check",
                                      headers={"X-Request-Id": "a b\nforged"})
    assert odd.headers["X-Request-Id"] != "a b\nforged"  # not a plain token: a new id
    lines = _lines(json_log)
    access = [x for x in lines if x["logger"] == "ccmgr.access"]
    assert [x["request_id"] for x in access] == ["rid-abc.123", made,
                                                 odd.headers["X-Request-Id"]]
    first = access[0]
    assert first["method"] == "GET" and first["route"] == "/proxy/auth/check"
    assert first["status"] == 401 and first["node"] == "node-j" and first["level"] == "INFO"
    assert isinstance(first["duration_ms"], float) and first["client"]
    assert first["time"].endswith("Z")


def test_no_password_token_or_cookie_in_any_line(harness, json_log):
    secret_pw = "Wr0ng-Pass!word"
    harness.client.simulate_post("/proxy/auth/login", body=json.dumps(
        {"username": "admin", "password": secret_pw}), headers={"X-Request-Id": "rid-bad"})
    sid = harness.login()
    new_pw = "N3w-Secret!pw"
    reply = harness.post("/proxy/auth/setpassword", {"old_password": harness.admin_password,
                                                     "new_password": new_pw}, sid=sid,
                         headers={"X-Request-Id": "rid-setpw"})
    assert reply.status_code == 200, reply.text
    token = (harness.services.basedir + "/metrics.token")
    with open(token, encoding="utf-8") as handle:
        metrics_token = handle.read().strip()
    harness.client.simulate_get("/metrics", headers={
        "Authorization": f"Bearer {metrics_token}"})
    harness.client.simulate_get("/metrics", headers={"Authorization": "Bearer guessed-tok"})
    text = json_log.read_text()
    lines = _lines(json_log)
    for secret in (secret_pw, new_pw, harness.admin_password, sid, metrics_token,
                   "guessed-tok", harness.services.secret.get().hex()):
        assert secret not in text
    audits = [x for x in lines if x.get("audit")]
    assert any(x["request_id"] == "rid-bad" and "AccessDenied" in x["message"] for x in audits)
    assert any(x["request_id"] == "rid-setpw" for x in audits)
    assert any(x.get("user") == "admin" and x["route"] == "/proxy/auth/setpassword"
               for x in lines if x["logger"] == "ccmgr.access")


def test_log_format_is_validated(tmp_path):
    write_config(tmp_path, {"log_format": "json"})
    assert read_config(str(tmp_path / "ccmgr.yaml")).doc["log_format"] == "json"
    write_config(tmp_path, {"log_format": "xml"})
    with pytest.raises(Exception, match="log_format"):
        read_config(str(tmp_path / "ccmgr.yaml"))


def _configured(tmp_path, monkeypatch, fmt: str, logfile: bool = True):
    import io
    import sys
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    path = tmp_path / "ccmgr.log"
    logsetup.configure(str(path) if logfile else None, fmt=fmt, node="node-t", stderr=True)
    return stderr, path


def _unconfigured():
    logsetup.configure(None, stderr=False)
    logging.getLogger("ccmgr").handlers.clear()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_stderr_and_the_logfile_get_the_same_line_formatted_once(tmp_path, monkeypatch,
                                                                 fmt):
    """Both handlers share one formatter, which formats each record once (logsetup's
    FormatOnce); a second record is formatted anew."""
    stderr, path = _configured(tmp_path, monkeypatch, fmt)
    try:
        handlers = list(logging.getLogger("ccmgr").handlers)
        inner = handlers[0].formatter.inner
        calls = []
        real = inner.format
        monkeypatch.setattr(inner, "format", lambda record: calls.append(1) or real(record))
        log = logging.getLogger("ccmgr.collectors")
        log.warning("first %s", "line\nwith a newline")
        log.warning("second")
    finally:
        _unconfigured()
    assert len(handlers) == 2 and len(calls) == 2
    written = path.read_text().splitlines()
    assert written == stderr.getvalue().splitlines()
    assert len(written) == 2 and "first line" in written[0] and "with a newline" in written[0]
    assert "second" in written[1] and "first" not in written[1]


@pytest.mark.parametrize("logfile", [True, False], ids=["with a logfile", "without"])
def test_access_records_go_to_the_logfile_only_when_there_is_one(tmp_path, monkeypatch,
                                                                   logfile):
    """One access record per request stays out of the journal (stderr) when the logfile
    has it; without a logfile it goes to stderr, so none is lost. Audit records and
    everything else go to both."""
    stderr, path = _configured(tmp_path, monkeypatch, "text", logfile)
    try:
        logging.getLogger("ccmgr.access").info("GET /proxy/clusters/list 200 1.0 ms")
        logsetup.audit("controller %s added", "c1")
        logging.getLogger("ccmgr.collectors").warning("a controller failed")
    finally:
        _unconfigured()
    journal = stderr.getvalue()
    assert "[AUDIT] controller c1 added" in journal and "a controller failed" in journal
    if logfile:
        text = path.read_text()
        assert "GET /proxy/clusters/list" in text and "GET /proxy/clusters/list" not in journal
        assert "[AUDIT] controller c1 added" in text and "a controller failed" in text
    else:
        assert "GET /proxy/clusters/list" in journal and not path.exists()
