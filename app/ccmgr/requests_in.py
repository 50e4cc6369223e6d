"""Reading JSON request bodies the way every endpoint needs: capped, strict, clear errors.

Bodies are parsed whatever the Content-Type says, because cmon-proxy's documented
clients (``curl -d``) send ``application/x-www-form-urlencoded``.
"""

from __future__ import annotations

from typing import Any

import falcon

from ccmgr import bodyguard
from ccmgr.errors import BodyTooLarge, InvalidRequest

DEFAULT_LIMIT = 64 * 1024
_TYPE_WORDS = {str: "a string", bool: "true or false", int: "an integer", dict: "an object",
               list: "an array"}


def read_json(req: falcon.Request, limit: int = DEFAULT_LIMIT) -> dict:
    """The body as a JSON object; 413 above ``limit`` bytes, 400 for anything else wrong."""
    length = req.content_length
    if length is not None and length > limit:
        raise BodyTooLarge(f"request body too large ({length} bytes, limit {limit})")
    data = bodyguard.raw_body(req, limit)
    if len(data) > limit:
        raise BodyTooLarge(f"request body too large (limit {limit} bytes)")
    if not data.strip():
        raise InvalidRequest("EOF")
    body = bodyguard.loads(data)
    if not isinstance(body, dict):
        raise InvalidRequest("expected a JSON object")
    return body


def check_fields(body: dict, spec: dict[str, type], *, where: str = "",
                 ignored: tuple[str, ...] = ()) -> dict[str, Any]:
    """Type-check ``body`` against ``spec``; unknown fields are refused (a typo is an error).

    ``null`` counts as absent. ``ignored`` fields are accepted and dropped.
    """
    out: dict[str, Any] = {}
    for name, value in body.items():
        label = f"{where}.{name}" if where else name
        if name in ignored:
            continue
        kind = spec.get(name)
        if kind is None:
            raise InvalidRequest(f'unknown field "{label}"')
        if value is None:
            continue
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            raise InvalidRequest(f'field "{label}" must be {_TYPE_WORDS.get(kind, kind.__name__)}')
        out[name] = value
    return out
