"""The Falcon application: ``create_app`` wires objects it is handed; ``get_app`` builds them.

gunicorn runs ``ccmgr.app:get_app()`` (or ``ccmgr.wsgi:app``); tests call ``create_app``
with services around a temporary basedir.
"""

from __future__ import annotations

import atexit
import logging
from typing import Any

import falcon

from ccmgr import gctune, logsetup
from ccmgr.access import BearerAuth, RoleGate
from ccmgr.accesslog import RequestContext
from ccmgr.bootstrap import bootstrap
from ccmgr.collectors import snapshot
from ccmgr.collectors.service import Collectors
from ccmgr.errors import CcmgrError, ConfigError, ServiceUnavailable
from ccmgr.ha.forward import WriteForwarder
from ccmgr.ha.replicator import attach
from ccmgr.metrics import wiring as metrics_wiring
from ccmgr.middleware import NodeHeaders, SessionGate
from ccmgr.resources import (
    admin,
    aggregates,
    auth,
    controllers,
    health,
    openapi,
    passthrough,
    settings,
    static,
)
from ccmgr.resources import metrics as metrics_resource
from ccmgr.runtime import Services, basedir_from, fetch_processes
from ccmgr.uiheaders import UIHeaders
from ccmgr.webwire import Compress, Cors

log = logging.getLogger("ccmgr.app")

_HTTP_STATUS_WORD = {404: "ObjectNotFound", 401: "AuthRequired", 403: "AccessDenied"}


def _render_ccmgr_error(req: falcon.Request, resp: falcon.Response, ex: CcmgrError,
                        params: dict) -> None:
    resp.status = ex.code
    resp.media = ex.body()


def _render_http_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError,
                       params: dict) -> None:
    code = ex.status_code
    word = _HTTP_STATUS_WORD.get(code, "UnknownError" if code >= 500 else "InvalidRequest")
    resp.status = code
    resp.media = {"type": word, "message": ex.description or ex.title or str(code)}
    for name, value in (ex.headers or {}).items():
        resp.set_header(name, value)


def _render_config_error(req: falcon.Request, resp: falcon.Response, ex: ConfigError,
                         params: dict) -> None:
    # The store refuses to write over a file it cannot read (or a result that fails
    # validation): the change was not made, and the reason is the operator's to fix.
    _render_ccmgr_error(req, resp, ServiceUnavailable(
        f"configuration cannot be changed: {ex}; nothing was changed"), params)


def _render_unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception,
                       params: dict) -> None:
    log.exception("unexpected error in %s %s", req.method, req.path)
    resp.status = falcon.HTTP_500
    resp.media = {"type": "UnknownError", "message": "internal error; see the ccmgr log"}


def create_app(services: Services, *, external_login: Any = None,
               collectors: Collectors | None = None, replicator: Any = None) -> falcon.App:
    """Wire the app. ``collectors`` (controller data) is built here unless a test injects
    one; external logins (``external_login``) default to the collectors' LDAP, then
    cmon-auth, login; ``replicator`` (this process's, if any) feeds the HA push metrics."""
    collectors = collectors or Collectors()
    aggregate_resources = {path: aggregates.Aggregate(collectors, endpoint)
                           for path, endpoint in aggregates.ENDPOINTS.items()}
    metrics = metrics_wiring.build(
        services, collectors, [(p, r.memo) for p, r in aggregate_resources.items()],
        replicator)
    if external_login is None:
        def external_login(username: str, password: str) -> dict | None:
            config = services.store.current()  # LDAP first, then cmon-auth (spec §2.5.3)
            return (collectors.ldap_login(config, username, password)
                    or collectors.cmon_login(config, username, password))

    app = falcon.App(middleware=[RequestContext(), metrics.requests, Compress(),
                                 NodeHeaders(services), Cors(), BearerAuth(),
                                 SessionGate(services), RoleGate(), WriteForwarder(services),
                                 UIHeaders()])
    app.req_options.strip_url_path_trailing_slash = True
    app.add_error_handler(Exception, _render_unexpected)
    app.add_error_handler(falcon.HTTPError, _render_http_error)
    app.add_error_handler(CcmgrError, _render_ccmgr_error)
    app.add_error_handler(ConfigError, _render_config_error)

    app.add_route("/health", health.Health(services))
    app.add_route("/proxy/auth/login", auth.Login(services, external_login))
    app.add_route("/proxy/auth/check", auth.Check())
    app.add_route("/proxy/auth/logout", auth.Logout(services))
    app.add_route("/proxy/auth/update", auth.UpdateProfile(services))
    app.add_route("/proxy/auth/setpassword", auth.SetPassword(services))
    app.add_route("/proxy/admin/reload", admin.Reload(services))
    app.add_route("/proxy/ha/status", health.HAStatus(services))
    app.add_route("/proxy/config", settings.ProxyConfig())
    app.add_route("/proxy/controllers/status", controllers.Status(collectors))
    app.add_route("/proxy/controllers/test", controllers.Test(services, collectors))
    app.add_route("/proxy/controllers/add", controllers.Add(services, collectors))
    app.add_route("/proxy/controllers/update", controllers.Update(services, collectors))
    app.add_route("/proxy/controllers/remove", controllers.Remove(services))
    for path, resource in aggregate_resources.items():
        app.add_route(path, resource)
    # Routes win over the UI's sink at "/": the pass-through works with a UI installed.
    app.add_route("/v2/{rpc:path}", passthrough.V2(collectors))
    app.add_route("/v2multi/{rpc:path}", passthrough.V2Multi(collectors))
    app.add_route("/openapi.json", openapi.OpenAPI())
    app.add_route("/metrics", metrics_resource.Metrics(metrics.render, metrics.token))
    app.add_sink(static.Static(), "/")
    return app


def get_app(basedir: str | None = None) -> falcon.App:
    """Build everything from the basedir (``CCMGR_BASEDIR``), run first-start duties, wire."""
    services = Services.from_basedir(basedir_from(basedir))
    config = services.store.current()
    logsetup.configure_for(config)
    bootstrap(services)
    replicator = attach(services)
    replicator.start()  # push after writes; catch-up and heartbeat loop (one per node)
    collectors = Collectors(fetch_processes=fetch_processes())
    app = create_app(services, collectors=collectors, replicator=replicator)
    gctune.tune()  # before the first fetch: see gctune for why and the figures
    # The previous run's cluster lists, then background controller logins, in this
    # (forked) worker; the kept lists are written once more when the worker exits.
    keeper = snapshot.Keeper(snapshot.path_in(services.basedir),
                             services.secret.derive(snapshot.PURPOSE).encode(),
                             collectors.cache, lambda: collectors.clients.settled)
    collectors.warm_up(config, keeper)
    atexit.register(keeper.stop)
    return app
