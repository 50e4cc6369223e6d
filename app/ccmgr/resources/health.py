"""GET /health for load balancers: no auth, no secrets, 503 when this node cannot serve."""

from __future__ import annotations

import falcon

from ccmgr import __version__
from ccmgr.ha.state import HAState
from ccmgr.ha.status import sync_report
from ccmgr.runtime import Services


class Health:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.state = HAState(services.basedir)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        config = req.context.config
        body = {
            "status": "ok",
            "node": config.node_name,
            "role": config.role,
            "epoch": config.epoch,
            "generation": config.generation,
            "sha256": config.sha256,
            "version": __version__,
        }
        body.update(sync_report(config, self.state))
        problems = []
        try:
            self.services.secret.get()
        except (OSError, ValueError):
            problems.append("session secret unreadable")
        if self.services.store.last_error is not None:
            # Still serving the last good config; the file on disk needs an operator.
            body["warnings"] = ["configuration file on disk is invalid; serving the last good one"]
        if problems:
            body["status"] = "unavailable"
            body["problems"] = problems
            resp.status = falcon.HTTP_503
        resp.media = body

    on_head = on_get


class HAStatus:
    """GET /proxy/ha/status: the same as /health plus peer addresses, for logged-in users."""

    auth_required = True

    def __init__(self, services: Services) -> None:
        self.health = Health(services)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.health.on_get(req, resp)

    on_post = on_get
