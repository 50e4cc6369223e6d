"""Small helpers shared by the /proxy resources (request body, acting identity, age header)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import falcon

from ccmgr.cmon.model import ControllerData, Who, derived
from ccmgr.resources.requests_in import read_json

AGE_HEADER = "X-Ccmgr-Data-Age"
CONTROLLERS_HEADER = "X-Ccmgr-Controllers"
FAILED_HEADER = "X-Ccmgr-Failed"


def body_of(req: falcon.Request) -> dict | None:
    """GET carries no body; POST must carry a JSON object (``{}`` is fine, nothing is 400)."""
    return read_json(req) if req.method == "POST" else None


def who(req: falcon.Request) -> Who:
    session = req.context.session
    if session is None:
        return Who()
    return Who(username=session.username, ldap=session.kind == "ldap")


def set_age(resp: falcon.Response, controllers: Sequence[ControllerData],
            kinds: Iterable[str], now: float) -> None:
    """The age in seconds of the oldest cached data the reply was built from
    (``now`` on the collectors' monotonic clock)."""
    kinds = tuple(kinds)
    oldest = derived(controllers, ("oldest", kinds), lambda: min(
        (t for c in controllers for k, t in c.fetched_at.items()
         if k in kinds and t is not None), default=None))
    if oldest is not None:
        resp.set_header(AGE_HEADER, str(int(max(0.0, now - oldest))))


def set_partial(resp: falcon.Response, controllers: Sequence[ControllerData],
                kinds: Iterable[str]) -> None:
    """``X-Ccmgr-Controllers: <answered>/<total>`` and, when some did not answer,
    ``X-Ccmgr-Failed: <xid>,...``: a controller whose latest fetch of any kind the reply
    reads failed did not answer (its part of the body is older data or missing)."""
    kinds = tuple(kinds)

    def headers() -> tuple[str, str]:
        failed = [c.xid for c in controllers if any(k in c.errors for k in kinds)]
        return f"{len(controllers) - len(failed)}/{len(controllers)}", ",".join(failed)

    answered, failed = derived(controllers, ("partial", kinds), headers)
    resp.set_header(CONTROLLERS_HEADER, answered)
    if failed:
        resp.set_header(FAILED_HEADER, failed)
