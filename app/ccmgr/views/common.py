"""Helpers shared by the aggregate views. Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from ccmgr.cmon.model import ControllerData
from ccmgr.errors import rfc3339_now
from ccmgr.views.listrequest import Filter, Match


def proxy_fields(c: ControllerData) -> dict:
    """The three keys every list item starts with."""
    return {"xid": c.xid, "controller_id": c.controller_id, "controller_url": c.url}


CONTROLLER_KEYS = frozenset(("xid", "controller_id", "controller_url"))


def controller_passes(match: Match, c: ControllerData) -> bool:
    """Controller-level keys (``CONTROLLER_KEYS``) skip a whole controller (and its
    last_updated entry)."""
    return match.pairs((("xid", c.xid), ("controller_id", c.controller_id),
                        ("controller_url", c.url)))


def cluster_index(c: ControllerData) -> dict[int, dict]:
    return {cl["cluster_id"]: cl for cl in c.clusters() or ()}


def stamp(when: datetime | None) -> str:
    """A proxy-side time: RFC 3339 at second precision, "" when unknown."""
    return rfc3339_now(when) if when is not None else ""


def bump(counter: dict, key: str, n: int = 1) -> None:
    counter[key] = counter.get(key, 0) + n


def matching_records(controllers: Sequence[ControllerData], filters: Sequence[Filter],
                     kind: str, records_of: Callable[[dict], Iterable[dict]],
                     cluster_id_of: Callable[[dict], int],
                     pairs_of: Callable[[ControllerData, dict, int, dict], Iterable[tuple]],
                     updated_of: Callable[[ControllerData, dict], str | None] | None = None,
                     ) -> tuple[list[tuple[ControllerData, dict]], dict[str, str]]:
    """The (controller, record) pairs of one data kind that pass ``filters``, and the
    ``last_updated`` map of the controllers looked at.

    A record passes when its filter ``pairs_of(controller, record, cluster id, cluster)``
    all pass and its cluster's tags do; controller-level keys skip whole controllers.
    ``last_updated`` holds the proxy's fetch time of the kind, or ``updated_of(controller,
    payload)`` where that is given (None leaves the controller out of the map).
    """
    match = Match(filters)
    found: list[tuple[ControllerData, dict]] = []
    last_updated: dict[str, str] = {}
    for c in controllers:
        payload = c.payload(kind)
        if payload is None or not controller_passes(match, c):
            continue
        updated = stamp(c.fetched.get(kind)) if updated_of is None else updated_of(c, payload)
        if updated is not None:
            last_updated[c.url] = updated
        index = cluster_index(c)
        for record in records_of(payload):
            cid = cluster_id_of(record)
            cluster = index.get(cid, {})
            if match.pairs(pairs_of(c, record, cid, cluster)) and match.tags_ok(
                    cluster.get("tags")):
                found.append((c, record))
    return found, last_updated
