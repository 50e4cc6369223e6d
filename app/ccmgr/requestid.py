"""The request id: taken from ``X-Request-Id`` (HAProxy sets it, a secondary passes it on
when it forwards a write) or made here, returned in the reply, and on every log record
made while the request is handled (``logsetup`` reads ``current``)."""

from __future__ import annotations

import contextvars
import re
import uuid

HEADER = "X-Request-Id"
# What an id may be: a caller's id is logged, so it must be short and plain.
_VALID = re.compile(r"^[A-Za-z0-9._:@+=-]{1,128}$")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("ccmgr_request_id", default="")


def current() -> str:
    return _current.get()


def accept(value: str | None) -> str:
    """The caller's id if it is a plain token, else a new one."""
    if value and _VALID.match(value):
        return value
    return uuid.uuid4().hex
