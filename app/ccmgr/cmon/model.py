"""Plain data handed from the collectors to the views (no behaviour, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Who:
    """The identity a request acts as towards controllers."""

    username: str = ""
    ldap: bool = False


@dataclass
class ControllerData:
    """One controller's cached data per kind ("clusters", "alarms", ...).

    ``data[kind]`` is the last good payload or None (never fetched); ``fetched[kind]`` its
    wall time and ``fetched_at[kind]`` its monotonic time (None if never fetched);
    ``errors[kind]`` the failure of the latest attempt.
    """

    xid: str
    url: str
    name: str = ""
    controller_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    fetched: dict[str, datetime | None] = field(default_factory=dict)
    errors: dict[str, Any] = field(default_factory=dict)
    fetched_at: dict[str, float | None] = field(default_factory=dict)
    version: str = ""
    last_status: str = ""
    ldap: bool = False
    frontend_url: str = ""
    version_key: tuple = ()  # changes whenever any of this controller's data changes

    def clusters(self) -> list[dict] | None:
        payload = self.data.get("clusters")
        return None if payload is None else payload["clusters"]

    def payload(self, kind: str) -> dict | None:
        return self.data.get(kind)
