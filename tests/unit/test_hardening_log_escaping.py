"""Control characters in logged fields are escaped: a caller cannot write a line of its
choosing into ccmgr.log, nor NUL bytes (issue 18, defect 6)."""

from __future__ import annotations

import json
import logging
import re

import pytest
from ccmgr import logsetup

RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ccmgr[.\w]*\[\d+\]: ")
FORGED = "2026-01-01 00:00:00,000 INFO ccmgr.audit[1]: [AUDIT] Login attempt Ok 'admin'"


@pytest.fixture
def logfile(tmp_path):
    logger = logging.getLogger("ccmgr")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    path = tmp_path / "ccmgr.log"
    logsetup.configure(str(path), stderr=False)
    yield path
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.handlers[:], logger.propagate, logger.level = saved[0], saved[1], saved[2]


def lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_newline_and_nul_in_login_name_and_user_agent_stay_in_one_line(harness, logfile):
    reply = harness.client.simulate_post(
        "/proxy/auth/login", headers={"User-Agent": "ua\x7fx\u2028y"},
        body=json.dumps({"username": f"eve\n{FORGED}\x00\r", "password": "x"}))
    assert reply.status_code == 401
    text = logfile.read_text(encoding="utf-8")
    assert "\x00" not in text and "\r" not in text and "\u2028" not in text
    assert all(RECORD_START.match(line) for line in lines(logfile))
    denied = [line for line in lines(logfile) if "AccessDenied" in line]
    assert len(denied) == 1 and "eve\\n2026-01-01" in denied[0] and "\\x00\\r" in denied[0]
    assert "ua\\x7fx\\u2028y" in denied[0]


def test_traceback_continuation_lines_cannot_pass_for_records(logfile):
    try:
        raise ValueError(f"bad name 'x\n{FORGED}'")
    except ValueError:
        logging.getLogger("ccmgr.test").exception("failed for %s", "a\nb")
    found = lines(logfile)
    assert RECORD_START.match(found[0]) and "failed for a\\nb" in found[0]
    assert all(line.startswith("| ") for line in found[1:])
    assert sum(bool(RECORD_START.match(line)) for line in found) == 1


def test_json_logs_keep_one_object_per_line_with_the_fields_as_sent(harness, tmp_path):
    """log_format json: control characters in a field are escaped, one record is one line
    that decodes to an object, and the field still reads as it was sent."""
    logger = logging.getLogger("ccmgr")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    path = tmp_path / "ccmgr.json.log"
    logsetup.configure(str(path), stderr=False, fmt="json", node="n1")
    try:
        name = f"eve\n{FORGED}\x00\r\u2028"
        reply = harness.client.simulate_post(
            "/proxy/auth/login", body=json.dumps({"username": name, "password": "x"}))
        assert reply.status_code == 401
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        logger.handlers[:], logger.propagate, logger.level = saved[0], saved[1], saved[2]
    raw = path.read_text(encoding="utf-8")
    assert "\x00" not in raw and "\r" not in raw and "\u2028" not in raw
    records = [json.loads(line) for line in raw.splitlines()]  # every line is one object
    assert records and all(isinstance(r, dict) for r in records)
    assert not any(r.get("message", "").startswith("2026-01-01") for r in records)
    assert any("eve" in json.dumps(r) for r in records)
