"""POST|GET /proxy/admin/reload: re-read the config now (cmon-proxy spec §2.8.1).

cmon-proxy leaves this open to anyone; here it needs a logged-in user, or the local
reload token (derived from the session secret, so only who can read the basedir has it)
from a loopback address. That is how ccmgradm asks the daemon to reload.
"""

from __future__ import annotations

import hmac
import logging

import falcon

from ccmgr.clientaddr import is_loopback
from ccmgr.errors import AuthRequired, CcmgrError, ConfigError, value_envelope
from ccmgr.logsetup import audit
from ccmgr.reloadtoken import RELOAD_PURPOSE, RELOAD_TOKEN_HEADER
from ccmgr.runtime import Services

log = logging.getLogger("ccmgr.admin")


class Reload:
    admin_only = True  # a viewer's session may not reload (the local token still may)
    denied_shape = "envelope"

    def __init__(self, services: Services) -> None:
        self.services = services

    def _allowed(self, req: falcon.Request) -> str | None:
        if req.context.session is not None:
            return f"user '{req.context.session.username}'"
        token = req.get_header(RELOAD_TOKEN_HEADER) or ""
        expected = self.services.secret.derive(RELOAD_PURPOSE)
        if token and is_loopback(req.remote_addr or "") and hmac.compare_digest(token, expected):
            return "local ccmgradm"
        return None

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = self._allowed(req)
        if who is None:
            raise AuthRequired("authentication is required")
        try:
            config = self.services.store.reload()
        except ConfigError as exc:
            raise CcmgrError(f"configuration not reloaded, still serving the previous one: {exc}",
                             status="InvalidRequest", shape="envelope") from None
        audit("Config reload requested by %s (generation %d)", who, config.generation)
        resp.media = value_envelope("Ok")

    on_get = on_post
