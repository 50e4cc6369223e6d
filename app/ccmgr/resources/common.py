"""Small helpers shared by the /proxy resources (request body, acting identity, age header)."""

from __future__ import annotations

from collections.abc import Iterable

import falcon

from ccmgr.cmon.model import ControllerData, Who
from ccmgr.resources.requests_in import read_json

AGE_HEADER = "X-Ccmgr-Data-Age"


def body_of(req: falcon.Request) -> dict | None:
    """GET carries no body; POST must carry a JSON object (``{}`` is fine, nothing is 400)."""
    return read_json(req) if req.method == "POST" else None


def who(req: falcon.Request) -> Who:
    session = req.context.session
    if session is None:
        return Who()
    return Who(username=session.username, ldap=session.kind == "ldap")


def set_age(resp: falcon.Response, controllers: Iterable[ControllerData],
            kinds: Iterable[str], now: float) -> None:
    """The age in seconds of the oldest cached data the reply was built from
    (``now`` on the collectors' monotonic clock)."""
    kinds = tuple(kinds)
    times = [t for c in controllers for k, t in c.fetched_at.items()
             if k in kinds and t is not None]
    if times:
        resp.set_header(AGE_HEADER, str(int(max(0.0, now - min(times)))))
