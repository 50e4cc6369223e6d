"""Cross-cutting request handling: node header, security headers, the session gate."""

from __future__ import annotations

import falcon

from ccmgr.access import GateAuthRequired
from ccmgr.clientaddr import ClientAddress
from ccmgr.errors import ConfigError, ServiceUnavailable
from ccmgr.runtime import Services
from ccmgr.sessions import COOKIE_NAME, Session, cookie_header


class NodeHeaders:
    """Names the answering node (HAProxy stickiness tests read it) and hardens replies."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            config = self.services.store.current()
        except ConfigError as exc:
            raise ServiceUnavailable(f"configuration cannot be loaded: {exc}") from None
        req.context.config = config
        trusted = config.settings.trusted_proxies
        if getattr(self, "_trusted", None) != trusted:
            self._trusted, self._resolver = trusted, ClientAddress(trusted)
        req.context.client = self._resolver.resolve(req.remote_addr or "",
                                                    req.get_header("X-Forwarded-For"))

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        config = getattr(req.context, "config", None)
        if config is not None:
            resp.set_header("X-Ccmgr-Node", config.node_name)
        resp.set_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload")
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("X-Frame-Options", "SAMEORIGIN")
        if req.path.startswith("/proxy/"):
            resp.set_header("Cache-Control", "no-store")


class SessionGate:
    """Resolves the ``sid`` cookie for every request and refuses gated resources without one.

    A resource opts in with ``auth_required = True``. Idle expiry is extended by re-issuing
    the cookie at most once a minute.
    """

    def __init__(self, services: Services) -> None:
        self.services = services

    def process_resource(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, params: dict) -> None:
        # An API token (ccmgr.access.BearerAuth, which runs first) stands for a session.
        req.context.session = getattr(req.context, "bearer", None)
        token = next(iter(req.get_cookie_values(COOKIE_NAME) or []), "")
        if token and req.context.session is None:
            config = req.context.config
            session = self.services.sessions.decode(token, config.session_ttl_seconds)
            if session is not None and session.kind == "local" and not session.fits(
                    config.local_user(session.username)):
                session = None  # the user was dropped (and perhaps added again)
            req.context.session = session
        if req.context.session is None and getattr(resource, "auth_required", False):
            raise GateAuthRequired("authentication is required")

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        session = getattr(req.context, "session", None)
        if session is None or session.kind == "token" or getattr(req.context, "cookie_set",
                                                                 False):
            return
        ttl_s = req.context.config.session_ttl_seconds
        if self.services.sessions.needs_refresh(session, ttl_s):
            set_session_cookie(self.services, req, resp, self.services.sessions.touched(session))


def set_session_cookie(services: Services, req: falcon.Request, resp: falcon.Response,
                       session: Session) -> None:
    token = services.sessions.encode(session)
    resp.append_header("Set-Cookie", cookie_header(
        token, samesite=req.context.config.doc["session_samesite"]))
    req.context.cookie_set = True
