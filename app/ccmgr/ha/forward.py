"""On a secondary, write endpoints are answered by the primary.

The request goes to the primary over HTTPS with the client's own session cookie (sessions
are valid on every node) and the client's address in X-Forwarded-For; the primary's reply
(status, body, Set-Cookie) is returned unchanged. With the primary unreachable the client
gets 503 and nothing changes anywhere.
"""

from __future__ import annotations

import logging

import falcon
import requests

from ccmgr.bodyguard import raw_body
from ccmgr.errors import ServiceUnavailable
from ccmgr.ha.primary import known_primary
from ccmgr.ha.state import HAState
from ccmgr.http import peer_session
from ccmgr.resources.requests_in import DEFAULT_LIMIT
from ccmgr.runtime import Services

log = logging.getLogger("ccmgr.ha")
FORWARDED_HEADER = "X-Ccmgr-Forwarded-By"


class WriteForwarder:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.state = HAState(services.basedir)
        self._session: requests.Session | None = None

    def _http(self) -> requests.Session:
        if self._session is None:  # built in the worker, never at import (fork safety)
            self._session = peer_session()
        return self._session

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: object,
                         params: dict) -> None:
        if not getattr(resource, "writes", False) or req.method != "POST":
            return
        config = req.context.config
        if config.role != "secondary" or req.get_header(FORWARDED_HEADER):
            return
        primary = known_primary(config, self.state) or next(iter(config.peers), None)
        if primary is None:
            raise ServiceUnavailable("this node is a secondary and knows no primary; "
                                     "nothing was changed")
        body = raw_body(req, DEFAULT_LIMIT)
        url = f"https://{primary.address}:{primary.port}{req.path}"
        headers = {"Content-Type": req.content_type or "application/json",
                   "User-Agent": req.user_agent or "", FORWARDED_HEADER: config.node_name,
                   "X-Forwarded-For": req.context.client,
                   # one id follows the write into the primary's log
                   "X-Request-Id": getattr(req.context, "request_id", "")}
        for name in ("Cookie", "Authorization"):  # a session cookie or an API token
            if req.get_header(name):
                headers[name] = req.get_header(name)
        verify = config.settings.peer_ca_file or True
        try:
            reply = self._http().post(url, data=body, headers=headers, timeout=(3.05, 30),
                                      verify=verify, allow_redirects=False)
        except requests.RequestException as exc:
            log.warning("cannot forward %s to the primary %s: %s", req.path, primary.name,
                        exc.__class__.__name__)
            if getattr(resource, "local_when_primary_down", False):
                return  # e.g. logout: better revoked here than refused
            raise ServiceUnavailable(
                f"the primary {primary.name} is unreachable, so this write was not made; "
                "nothing was changed (retry later, or promote a secondary)") from None
        resp.status = reply.status_code
        resp.data = reply.content
        resp.content_type = reply.headers.get("Content-Type", "application/json")
        for cookie in reply.raw.headers.getlist("Set-Cookie"):
            resp.append_header("Set-Cookie", cookie)
        resp.set_header("X-Ccmgr-Primary", primary.name)
        req.context.cookie_set = True  # the primary's cookies are the ones that count
        resp.complete = True
