"""Falcon middleware: the request id (``requestid``) and one access record per request.

The access record (logger ``ccmgr.access``) carries method, route, status, duration, user
and client address as record fields; the JSON formatter writes them as keys, the text
format as one line. Never headers, cookies or bodies: secrets travel in those.
"""

from __future__ import annotations

import logging
import time

import falcon

from ccmgr import requestid
from ccmgr.logsetup import ACCESS_LOGGER

access_log = logging.getLogger(ACCESS_LOGGER)


class RequestContext:
    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        rid = requestid.accept(req.get_header(requestid.HEADER))
        req.context.request_id = rid
        req.context.request_token = requestid._current.set(rid)
        req.context.access_started = time.monotonic()
        resp.set_header(requestid.HEADER, rid)

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        started = getattr(req.context, "access_started", None)
        if started is None:
            return
        status = resp.status if isinstance(resp.status, int) else int(str(resp.status)[:3])
        session = getattr(req.context, "session", None)
        fields = {
            "method": req.method,
            "route": req.uri_template or req.path,
            "status": status,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "user": session.username if session is not None else "",
            "client": getattr(req.context, "client", "") or req.remote_addr or "",
        }
        if req.uri_template != "/health":  # balancer probes would drown the log
            access_log.info("%s %s %s %.1f ms user=%s client=%s id=%s", fields["method"],
                            fields["route"], status, fields["duration_ms"],
                            fields["user"] or "-", fields["client"], req.context.request_id,
                            extra={"http": fields})
        token = getattr(req.context, "request_token", None)
        if token is not None:
            requestid._current.reset(token)
