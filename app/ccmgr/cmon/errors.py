"""Typed failures of a controller call. Views report them; none of them ever becomes a 500.

``message`` is what controllers/status shows as ``status_message``; ``auth`` marks the
failures cmon-proxy reports as ``authentication-error`` instead of ``failed``.
"""

from __future__ import annotations


class CmonError(Exception):
    auth = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConnectFailed(CmonError):
    """DNS, refused, reset, unreachable: the request never got an answer."""


class Timeout(CmonError):
    """No (complete) answer within the configured timeout."""


class TLSFailed(CmonError):
    """Handshake or certificate verification failed."""


class BadReply(CmonError):
    """An answer that is not a cmon JSON envelope (HTML, truncated JSON, HTTP 5xx...)."""


class ControllerError(CmonError):
    """cmon answered with a non-Ok ``request_status``."""

    def __init__(self, status: str, error_string: str) -> None:
        super().__init__(f"{status}: {error_string}" if error_string else status)
        self.status = status
        self.error_string = error_string


class AuthFailed(ControllerError):
    """AccessDenied / AuthRequired, or no credentials to log in with."""

    auth = True

    @classmethod
    def no_credentials(cls, reason: str) -> AuthFailed:
        """No login was attempted: cmon-proxy shows the bare reason, without a status word."""
        error = cls("AuthRequired", reason)
        error.message = reason
        return error


AUTH_STATUSES = ("AccessDenied", "AuthRequired")


def controller_error(status: str, error_string: str) -> ControllerError:
    cls = AuthFailed if status in AUTH_STATUSES else ControllerError
    return cls(status, error_string)
