"""Per-controller fault settings (reference §11.4), changeable at run time."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields
from typing import Any

# Transport/reply modes; at most one is active per controller.
MODES = (
    "refused",  # listener closed: connect() is refused
    "hang",  # accept and read the request, never answer
    "reset",  # read the request, answer with a TCP RST
    "http500",  # HTTP 500 with an UnknownError JSON body
    "http500_html",  # HTTP 500 with an HTML body
    "http500_empty",  # HTTP 500 with an empty body
    "bad_json",  # HTTP 200 with a truncated JSON body
    "empty_json",  # HTTP 200 with `{}`
    "tls_fail",  # TCP accepted, TLS handshake answered with a fatal alert
    "try_again",  # HTTP 200 with request_status TryAgain
)
# Modes that act on whole connections, so a module filter cannot apply.
CONNECTION_MODES = frozenset({"refused", "tls_fail"})

STATUS_CODE_MODES = ("default", "mirror", "always200")


class FaultError(ValueError):
    """An invalid fault setting."""


@dataclass
class Faults:
    mode: str | None = None
    modules: list[str] | None = None  # restrict `mode` to these /v2 modules ("alarm", ...)
    wrong_credentials: bool = False  # every login answers AccessDenied
    session_ttl: float | None = None  # sessions die this many seconds after login
    latency: float = 0.0  # seconds added before every reply
    jitter: float = 0.0  # +/- uniform seconds around `latency`
    status_codes: str = "default"  # JSON status -> HTTP code mapping (reference §1.6)
    hang_max: float = 600.0  # a hung request is closed after this long at the latest
    # Per-cluster failures for requests naming these cluster ids (cluster_id/cluster_ids):
    denied_clusters: list[int] | None = None  # AccessDenied (access revoked)
    missing_clusters: list[int] | None = None  # ObjectNotFound (deleted mid-refresh)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def applies_to(self, module: str) -> bool:
        return self.mode is not None and (self.modules is None or module in self.modules)

    def delay(self, rng: random.Random) -> float:
        if self.latency <= 0 and self.jitter <= 0:
            return 0.0
        return max(0.0, self.latency + rng.uniform(-self.jitter, self.jitter))

    def updated(self, changes: dict[str, Any]) -> Faults:
        """A copy with `changes` applied and validated; unknown keys are errors."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise FaultError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        new = Faults(**{**self.to_dict(), **changes})
        new.validate()
        return new

    def validate(self) -> None:
        if self.mode is not None and self.mode not in MODES:
            raise FaultError(f"mode must be one of {', '.join(MODES)} or null")
        if self.modules is not None and (
            not isinstance(self.modules, list) or not all(isinstance(m, str) for m in self.modules)
        ):
            raise FaultError("modules must be a list of module names or null")
        if self.status_codes not in STATUS_CODE_MODES:
            raise FaultError(f"status_codes must be one of {', '.join(STATUS_CODE_MODES)}")
        for name in ("latency", "jitter", "hang_max"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise FaultError(f"{name} must be a non-negative number")
        ttl = self.session_ttl
        if ttl is not None and (not isinstance(ttl, int | float) or isinstance(ttl, bool)
                                or ttl < 0):
            raise FaultError("session_ttl must be a non-negative number or null")
        for name in ("denied_clusters", "missing_clusters"):
            ids = getattr(self, name)
            if ids is not None and (not isinstance(ids, list) or not all(
                    isinstance(i, int) and not isinstance(i, bool) for i in ids)):
                raise FaultError(f"{name} must be a list of cluster ids or null")
        if not isinstance(self.wrong_credentials, bool):
            raise FaultError("wrong_credentials must be a boolean")


def parse_faults(data: dict[str, Any] | None) -> Faults:
    return Faults().updated(dict(data or {}))
