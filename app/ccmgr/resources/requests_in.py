"""Reading JSON request bodies the way every endpoint needs: capped, strict, clear errors.

Bodies are parsed whatever the Content-Type says, because cmon-proxy's documented
clients (``curl -d``) send ``application/x-www-form-urlencoded``.
"""

from __future__ import annotations

import falcon

from ccmgr import bodyguard
from ccmgr.errors import BodyTooLarge, InvalidRequest

DEFAULT_LIMIT = 64 * 1024


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
