"""/v2/*any and /v2multi/*any: controller RPCs passed through (cmon-proxy spec §2.9.1-2).

The body (or, when it is shorter than 2 bytes, the query string) is sent unchanged as a
POST of the same path to the controller(s), with the session's identity: the service
credentials for local users and tokens, the user's own controller session for LDAP and
cmon-auth users. Replies keep cmon-proxy's shapes: the controller's object plus ``xid``,
keys sorted as Go's map marshalling does; errors in the by-value envelope. Viewers are
refused (``admin_only``): an RPC may change anything on a controller.
"""

from __future__ import annotations

import base64
import json
import re

import falcon

from ccmgr import bodyguard
from ccmgr.bodyguard import raw_body
from ccmgr.collectors.service import Collectors, RelayReply
from ccmgr.errors import BodyTooLarge, CcmgrError, InvalidRequest, value_envelope
from ccmgr.resources.common import who
from ccmgr.resources.requests_in import DEFAULT_LIMIT

NO_CMON = {"request_created": "", "request_processed": "",
           "request_status": "ObjectNotFound", "error_string": "No cmon found by xid."}


# The RPC path below /v2/: a module, then segments that may hold single dots (never "..",
# nothing that could climb out of /v2/ on the controller). openapi.py states the same rule.
RPC_PATH = r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)*$"
_MODULE = re.compile(RPC_PATH)


class PassthroughError(CcmgrError):
    """cmon-proxy's by-value envelope for pass-through errors (spec §2.2 quirk)."""

    def body(self) -> dict:
        return {**value_envelope(self.status), "error_string": self.message}


def _error(status: str, message: str, code: int) -> CcmgrError:
    return PassthroughError(message, status=status, http_status=code)


def _module(rpc: str) -> str:
    """The RPC path below /v2/; nothing that could climb out of it on the controller."""
    if not _MODULE.match(rpc):
        raise _error("InvalidRequest", f"invalid RPC path '/v2/{rpc[:80]}'", 400)
    return rpc


def _read_body(req: falcon.Request) -> dict:
    length = req.content_length
    if length is not None and length > DEFAULT_LIMIT:
        raise BodyTooLarge(f"request body too large ({length} bytes, limit {DEFAULT_LIMIT})")
    raw = raw_body(req, DEFAULT_LIMIT)
    if len(raw) > DEFAULT_LIMIT:
        raise BodyTooLarge(f"request body too large (limit {DEFAULT_LIMIT} bytes)")
    if not raw.strip() or (len(raw) < 2 and req.query_string):
        # cmon-proxy (spec §2.9.1): a body shorter than 2 bytes with a query string is
        # replaced by the first value of each query parameter, all as strings.
        return {k: (v[0] if isinstance(v, list) else v) for k, v in req.params.items()}
    try:  # the same limits as every other body (depth, huge integers, lone surrogates)
        body = bodyguard.loads(raw)
    except InvalidRequest as exc:
        raise _error("InvalidRequest", f"couldn't read request body: {exc.message}",
                     400) from None
    if not isinstance(body, dict):
        raise _error("InvalidRequest", "couldn't read request body: not a JSON object", 400)
    return body


def _transport_error(reply: RelayReply) -> dict:
    assert reply.error is not None
    return {**value_envelope("UnknownError"),
            "error_string": f"error while communicating to cmon:{reply.error.message}"}


def _json_object(reply: RelayReply) -> dict | None:
    try:
        data = json.loads(reply.body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


class _Relay:
    """Both pass-through routes: a session is needed and viewers are refused, in the
    envelope (an RPC may change anything on a controller)."""

    auth_required = True
    admin_only = True
    denied_shape = "envelope"

    def __init__(self, collectors: Collectors) -> None:
        self.collectors = collectors


class V2(_Relay):
    def on_post(self, req: falcon.Request, resp: falcon.Response, rpc: str) -> None:
        module = _module(rpc)
        body = _read_body(req)
        xid, cid = body.get("xid"), body.get("controller_id")
        routing = xid if isinstance(xid, str) and len(xid) > 4 else cid
        if not isinstance(routing, str) or not routing:
            raise _error("InvalidRequest", "missing xid or controller_id from request", 400)
        config = req.context.config
        instance = self.collectors.find_controller(who(req), config, routing)
        if instance is None:
            raise _error("ObjectNotFound", "couldn't find controller with the specified id", 404)
        reply = self.collectors.relay(who(req), config, instance, module, body)
        if reply.error is not None:
            resp.status = 404  # cmon-proxy v2.2's code for a transport failure
            resp.media = _transport_error(reply)
            return
        data = _json_object(reply)
        if data is None:
            # Not JSON (an HTML error page...): relayed as is, as cmon-proxy HEAD does;
            # a controller's 5xx becomes 502 (the failure is upstream, not ours).
            resp.status = 502 if reply.status >= 500 else (reply.status or 502)
            resp.content_type = reply.content_type or "application/octet-stream"
            resp.data = reply.body
            return
        data["xid"] = instance.xid
        resp.data = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        resp.content_type = falcon.MEDIA_JSON

    on_get = on_post


class V2Multi(_Relay):
    def on_post(self, req: falcon.Request, resp: falcon.Response, rpc: str) -> None:
        module = _module(rpc)
        body = _read_body(req)
        wanted = body.get("xids")
        if isinstance(wanted, str):  # ?xids=a,b (a GET, or a POST without a body)
            body.pop("xids")
            wanted = [x for x in wanted.split(",") if x]
        if wanted is not None and not (isinstance(wanted, list)
                                       and all(isinstance(x, str) for x in wanted)):
            raise _error("InvalidRequest", "couldn't read request body: xids must be a list "
                         "of strings", 400)
        config = req.context.config
        by_xid = {i.xid: i for i in config.controllers}
        selected = [by_xid[x] for x in wanted if x in by_xid] if wanted else list(
            config.controllers)
        out: dict[str, dict] = {x: dict(NO_CMON) for x in wanted or () if x not in by_xid}
        for reply in self.collectors.relay_many(who(req), config, selected, module, body):
            if reply.error is not None:
                out[reply.xid] = _transport_error(reply)
                continue
            data = _json_object(reply)
            if data is None:
                out[reply.xid] = {"xid": reply.xid,
                                  "data": base64.b64encode(reply.body).decode()}
            else:
                data["xid"] = reply.xid
                out[reply.xid] = data
        resp.data = json.dumps(out, sort_keys=True, separators=(",", ":")).encode()
        resp.content_type = falcon.MEDIA_JSON

    on_get = on_post
