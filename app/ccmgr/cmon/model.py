"""Plain data handed from the collectors to the views (no behaviour, no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


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


class Gathered(list):
    """``Collectors.gather``'s result: every controller's ``ControllerData``, in the
    configuration's order, with what requests work out from all of them kept beside
    (``derived``). A warm result is handed to request after request while nothing
    changed, so each such value is worked out once per result, not once per request."""

    __slots__ = ("_derived",)

    def derived(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, kept under ``key``. Values must not refer back to this list: a
        cycle would keep a superseded estate alive until the cyclic collector runs."""
        try:
            kept = self._derived
        except AttributeError:
            kept = self._derived = {}
        try:
            return kept[key]
        except KeyError:
            value = kept[key] = make()
            return value


def derived(controllers: Sequence[ControllerData], key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, kept with ``controllers`` when they are a ``Gathered``."""
    if isinstance(controllers, Gathered):
        return controllers.derived(key, make)
    return make()


def versions(controllers: Sequence[ControllerData]) -> tuple:
    """The data versions of ``controllers`` (the key of results computed from them)."""
    return derived(controllers, "versions", lambda: tuple(c.version_key for c in controllers))
