"""ccmgr.bodyguard.loads: what the quick check lets through unwalked must be what the
walk lets through (tests/unit/test_hardening_bad_bodies.py has the same inputs end to end)."""

from __future__ import annotations

import json

import pytest
from ccmgr import bodyguard
from ccmgr.errors import InvalidRequest


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("raw", [
    b'{"name": "\xed\xa0\x80"}',                          # a surrogate as raw UTF-8 bytes
    '{"name": "\\ud800"}'.encode("utf-16-le"),            # an escape json reads as UTF-16
    '{"name": "\\udfff"}'.encode("utf-32"),               # and as UTF-32
    b'{"name": "\\ud800"}',                               # an escape in UTF-8
    b'{"name": "\\uD83D"}',                               # upper-case hex
], ids=["raw bytes", "utf-16", "utf-32", "escape", "upper-case escape"])
def test_a_lone_surrogate_is_refused_however_it_is_written(raw):
    with pytest.raises(InvalidRequest, match="not valid Unicode"):
        bodyguard.loads(raw)


def test_nesting_is_refused_one_level_past_the_limit_only():
    assert bodyguard.loads(nested(bodyguard.MAX_DEPTH)) == json.loads(nested(bodyguard.MAX_DEPTH))
    with pytest.raises(InvalidRequest, match="nested more than"):
        bodyguard.loads(nested(bodyguard.MAX_DEPTH + 1))


@pytest.mark.parametrize("raw", [
    b'{"page": 1, "perPage": 50, "filters": [{"key": "state", "values": ["STARTED"]}]}',
    '{"name": "가 \\" [{ ok"}'.encode(),    # Hangul (a 0xEA lead byte), brackets in text
    b'{"name": "\\ud83d\\ude00"}',   # an escaped surrogate pair is fine
    b"{}",
])
def test_plain_bodies_decode_as_json_does(raw):
    assert bodyguard.loads(raw) == json.loads(raw)
