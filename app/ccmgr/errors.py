"""The error hierarchy and the two reply envelopes of cmon-proxy's /proxy API.

cmon-proxy answers with two shapes (spec §2.2): the *reply envelope*
``{request_created, request_processed, request_status, error_string}`` for auth,
the auth gate and admin endpoints, and the *error object* ``{type, message}`` for
request parsing and controller endpoints. Each error class knows its status code
and which shape it renders; resources raise, one handler renders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# request_status / type values and their HTTP status (spec §2.2).
STATUS_HTTP = {
    "Ok": 200,
    "InvalidRequest": 400,
    "ObjectNotFound": 404,
    "ClusterNotFound": 404,
    "TryAgain": 425,
    "UnknownError": 500,
    "Redirect": 307,
    "AccessDenied": 401,
    "AuthRequired": 401,
}

ENVELOPE = "envelope"
ERROR_OBJECT = "error_object"


def rfc3339_now(now: datetime | None = None) -> str:
    """Second-precision RFC 3339 in the server's zone, 'Z' for UTC, as Go prints it."""
    stamp = (now or datetime.now().astimezone()).isoformat(timespec="seconds")
    return stamp[:-6] + "Z" if stamp.endswith("+00:00") else stamp


def reply_envelope(status: str = "Ok", error_string: str = "", **extra: Any) -> dict:
    """The response-data envelope (a), keys in cmon-proxy's order."""
    body: dict[str, Any] = {"request_created": "", "request_processed": rfc3339_now()}
    if status:
        body["request_status"] = status
    if error_string:
        body["error_string"] = error_string
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def value_envelope(status: str = "Ok") -> dict:
    """The by-value marshalling quirk of logout and reload replies (spec §2.2, verified)."""
    zero = {"T": "0001-01-01T00:00:00Z"}
    return {"request_created": zero, "request_processed": dict(zero), "request_status": status}


class CcmgrError(Exception):
    """Base class: carries the cmon-proxy status word, HTTP code and reply shape."""

    status = "UnknownError"
    http_status: int | None = None
    shape = ERROR_OBJECT

    def __init__(self, message: str, *, status: str | None = None,
                 http_status: int | None = None, shape: str | None = None,
                 extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status:
            self.status = status
        if http_status:
            self.http_status = http_status
        if shape:
            self.shape = shape
        self.extra = extra or {}

    @property
    def code(self) -> int:
        return self.http_status or STATUS_HTTP.get(self.status, 200)

    def body(self) -> dict:
        if self.shape == ENVELOPE:
            return reply_envelope(self.status, self.message, **self.extra)
        return {"type": self.status, "message": self.message}


class InvalidRequest(CcmgrError):
    """Malformed or unacceptable request: 400 with the error object."""

    status = "InvalidRequest"

    def __init__(self, detail: str, **kw: Any) -> None:
        super().__init__(f"Invalid request:{detail}", **kw)


class BodyTooLarge(CcmgrError):
    status = "InvalidRequest"
    http_status = 413


class UnsupportedMethod(CcmgrError):
    status = "InvalidRequest"
    http_status = 405


class NotFound(CcmgrError):
    status = "ObjectNotFound"


class AuthRequired(CcmgrError):
    status = "AuthRequired"
    shape = ENVELOPE


class AccessDenied(CcmgrError):
    status = "AccessDenied"
    shape = ENVELOPE


class RateLimited(CcmgrError):
    status = "AccessDenied"
    http_status = 429
    shape = ENVELOPE


class ServiceUnavailable(CcmgrError):
    status = "TryAgain"
    http_status = 503
    shape = ENVELOPE


class ConfigError(Exception):
    """An invalid configuration file: names the file, the key and, for syntax errors, the line."""

    def __init__(self, path: str, message: str, *, key: str | None = None,
                 line: int | None = None) -> None:
        where = path
        if line is not None:
            where += f" line {line}"
        if key:
            where += f" key '{key}'"
        super().__init__(f"{where}: {message}")
        self.path, self.key, self.line, self.detail = path, key, line, message
