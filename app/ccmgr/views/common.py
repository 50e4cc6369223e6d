"""Helpers shared by the aggregate views. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ccmgr.errors import rfc3339_now
from ccmgr.views.listrequest import Filter, all_pass
from ccmgr.views.model import ControllerData


def proxy_fields(c: ControllerData) -> dict:
    """The three keys every list item starts with."""
    return {"xid": c.xid, "controller_id": c.controller_id, "controller_url": c.url}


def controller_passes(filters: Sequence[Filter], c: ControllerData) -> bool:
    """Controller-level keys skip a whole controller (and its last_updated entry)."""
    return all_pass(filters, (("xid", c.xid), ("controller_id", c.controller_id),
                              ("controller_url", c.url)))


def cluster_index(c: ControllerData) -> dict[int, dict]:
    return {cl["cluster_id"]: cl for cl in c.clusters() or ()}


def stamp(when: datetime | None) -> str:
    """A proxy-side time: RFC 3339 at second precision, "" when unknown."""
    return rfc3339_now(when) if when is not None else ""


def bump(counter: dict, key: str, n: int = 1) -> None:
    counter[key] = counter.get(key, 0) + n
