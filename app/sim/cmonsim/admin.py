"""The admin endpoint: plain HTTP + JSON on 127.0.0.1 (by default) to inspect the
estate, flip faults and read request counters while the simulator runs.

Routes (`<c>` = controller index from 0, or its name such as `cmon-01`):

    GET    /health
    GET    /controllers                     all controllers (URL, credentials, faults)
    GET    /controllers/<c>                 one controller
    GET    /controllers/<c>/data            the generated records (clusters, jobs, ...)
    GET    /controllers/<c>/faults
    PUT    /controllers/<c>/faults          replace the settings (absent keys -> defaults)
    PATCH  /controllers/<c>/faults          merge into the current settings (POST too)
    DELETE /controllers/<c>/faults          back to no faults
    GET    /controllers/<c>/counters        request counters by (path, operation)
    GET    /controllers/<c>/callers         authenticated requests by (path, cmon user)
    DELETE /controllers/<c>/counters        reset them
    POST   /controllers/<c>/sessions/expire drop every session of the controller
    PATCH  /controllers/<c>/clusters/<id>   {"cluster_name": "..."}: rename a cluster (as
                                            an operator would in ClusterControl)
    GET    /stats                           worst event-loop lag (ms), open connections, the
                                            most RPCs answered at once by operation (over
                                            all controllers); DELETE resets lag and maxima
    GET    /counters                        counters of every controller; DELETE resets all
    PATCH  /faults                          merge settings into every controller (PUT
                                            replaces, DELETE clears)
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from . import keys
from .controller import ControllerState
from .faults import FaultError
from .http11 import Request

if TYPE_CHECKING:
    from .server import SimServer

Response = tuple[int, list[tuple[str, str]], bytes]


class NotFound(Exception):
    pass


def _json(status: int, obj: Any) -> Response:
    body = json.dumps(obj, indent=1).encode() + b"\n"
    return status, [("Content-Type", "application/json"), ("Server", "cmonsim-admin")], body


class AdminApi:
    def __init__(self, server: SimServer) -> None:
        self.server = server

    def controller_info(self, ctl: ControllerState) -> dict[str, Any]:
        opts = self.server.options
        host = opts.url_host()
        url = f"{host}:{ctl.port}{ctl.prefix}"
        data = ctl.data
        return {
            "index": ctl.index,
            "name": ctl.name,
            "url": url,
            "https_url": f"https://{url}",
            "host": host,
            "port": ctl.port,
            "prefix": ctl.prefix,
            "controller_id": data.controller_id,
            "version": data.version,
            "ldap": data.ldap,
            "listening": self.server.listening(ctl),
            "users": [{"user_name": u.user_name, "password": u.password, "origin": u.origin,
                       "superuser": u.superuser} for u in data.users],
            "clusters": len(data.clusters),
            "faults": ctl.faults.to_dict(),
        }

    def find(self, ref: str) -> ControllerState:
        states = self.server.states
        if ref.isdigit() and int(ref) < len(states):
            return states[int(ref)]
        for ctl in states:
            if ctl.name == ref:
                return ctl
        raise NotFound(f"no controller {ref!r}")

    async def handle(self, req: Request) -> Response:
        try:
            return await self._route(req)
        except NotFound as exc:
            return _json(404, {"error": str(exc)})
        except FaultError as exc:
            return _json(400, {"error": str(exc)})
        except ValueError as exc:
            return _json(400, {"error": f"bad request body: {exc}"})

    async def _route(self, req: Request) -> Response:
        parts = [p for p in req.target.split("?", 1)[0].split("/") if p]
        method = req.method
        srv = self.server
        if parts == ["health"]:
            return _json(200, {"ok": True, "controllers": len(srv.states), "pid": os.getpid()})
        if parts == ["stats"]:
            body = {"loop_lag_max_ms": round(srv.loop_lag_max * 1000, 1),
                    "connections": sum(len(c) for c in srv._conns.values()),
                    "in_flight_max": dict(srv.in_flight_max)}
            if method == "DELETE":
                srv.loop_lag_max = 0.0
                srv.in_flight_max.clear()
            return _json(200, body)
        if parts == ["keys"] and method == "GET":
            return _json(200, {"private_key_pem": keys.private_pem()})
        if parts == ["controllers"] and method == "GET":
            return _json(200, {"admin_port": srv.admin_port,
                               "controllers": [self.controller_info(c) for c in srv.states]})
        if parts == ["counters"]:
            if method == "DELETE":
                for ctl in srv.states:
                    ctl.counters.clear()
                    ctl.callers.clear()
            return _json(200, {"controllers": [{"index": c.index, "name": c.name,
                                                "counters": c.counter_rows()}
                                               for c in srv.states]})
        if parts == ["faults"] and method in ("PUT", "PATCH", "POST", "DELETE"):
            changes = {} if method == "DELETE" else self._body(req)
            replace = method in ("PUT", "DELETE")
            for ctl in srv.states:
                ctl.faults.updated(changes)  # validate before touching any controller
            out = [(await srv.set_faults(c, changes, replace)).to_dict() for c in srv.states]
            return _json(200, {"faults": out})
        if len(parts) >= 2 and parts[0] == "controllers":
            return await self._controller_route(self.find(parts[1]), parts[2:], req)
        raise NotFound(f"no route {method} {req.target}")

    async def _controller_route(self, ctl: ControllerState, rest: list[str],
                                req: Request) -> Response:
        method = req.method
        srv = self.server
        if not rest and method == "GET":
            return _json(200, self.controller_info(ctl))
        if rest == ["data"] and method == "GET":
            return _json(200, self.data_dump(ctl))
        if rest == ["faults"]:
            if method == "GET":
                return _json(200, ctl.faults.to_dict())
            if method in ("PUT", "PATCH", "POST"):
                faults = await srv.set_faults(ctl, self._body(req), replace=method == "PUT")
                return _json(200, faults.to_dict())
            if method == "DELETE":
                return _json(200, (await srv.set_faults(ctl, {}, replace=True)).to_dict())
        if rest == ["counters"]:
            if method == "DELETE":
                ctl.counters.clear()
                ctl.callers.clear()
            if method in ("GET", "DELETE"):
                return _json(200, {"counters": ctl.counter_rows()})
        if rest == ["callers"] and method == "GET":
            return _json(200, {"callers": ctl.caller_rows()})
        if rest == ["sessions", "expire"] and method == "POST":
            return _json(200, {"expired": ctl.expire_sessions()})
        if len(rest) == 2 and rest[0] == "clusters" and method == "PATCH":
            return _json(200, self._rename_cluster(ctl, rest[1], self._body(req)))
        raise NotFound(f"no route {method} {req.target}")

    @staticmethod
    def _rename_cluster(ctl: ControllerState, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("cluster_name")
        if not isinstance(name, str) or not name or set(body) != {"cluster_name"}:
            raise ValueError('expected {"cluster_name": "<non-empty string>"}')
        cluster = next((c for c in ctl.data.clusters if str(c["cluster_id"]) == ref), None)
        if cluster is None:
            raise NotFound(f"no cluster {ref} on {ctl.name}")
        cluster["cluster_name"] = name
        ctl.cache.clear()  # pre-serialised replies carry the old name
        return {"cluster_id": cluster["cluster_id"], "cluster_name": name}

    @staticmethod
    def _body(req: Request) -> dict[str, Any]:
        if not req.body.strip():
            return {}
        body = json.loads(req.body)
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object")
        return body

    @staticmethod
    def data_dump(ctl: ControllerState) -> dict[str, Any]:
        d = ctl.data
        return {
            "controller_id": d.controller_id, "name": d.name, "version": d.version,
            "ip": d.ip, "ldap": d.ldap, "clusters": d.clusters, "alarms": d.alarms,
            "jobs": d.jobs, "schedules": d.schedules, "backups": d.backups, "logs": d.logs,
            "audit": d.audit, "license": d.license, "license_check": d.license_check,
        }
