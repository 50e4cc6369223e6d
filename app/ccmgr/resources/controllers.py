"""/proxy/controllers/{status,test,add,update,remove} (cmon-proxy spec §2.6, §4.6).

Changes go through the config store (locked read-modify-write). Passwords are never in a
reply: status objects do not carry them. LDAP sessions may not change controllers (403).
"""

from __future__ import annotations

from datetime import datetime

import falcon

from ccmgr import registry
from ccmgr.access import role_of_request
from ccmgr.collectors.service import Collectors
from ccmgr.config.model import Instance
from ccmgr.config.schema import INSTANCE_FIELDS
from ccmgr.errors import CcmgrError, InvalidRequest, NotFound
from ccmgr.fields import check_fields
from ccmgr.instances import DuplicateURL, UnknownController
from ccmgr.logsetup import audit
from ccmgr.resources.common import body_of, who
from ccmgr.resources.requests_in import read_json
from ccmgr.runtime import Services
from ccmgr.views import listrequest
from ccmgr.views.controllers import controller_status

DATA_KINDS = ("clusters", "alarms", "jobs", "backups", "logs", "audit")


def _now() -> datetime:
    return datetime.now().astimezone()


def _bad_request() -> CcmgrError:
    return CcmgrError("Invalid request.", status="InvalidRequest")


def _actor(req: falcon.Request, verb: str) -> registry.Actor:
    """The session's user, refused (403) before the body is read if it may not ``verb``."""
    session = req.context.session
    actor = registry.Actor(session.username, session.kind, role_of_request(req)) if session \
        else registry.Actor()
    registry.check_may_change(actor, verb)
    return actor


def _audit(req: falcon.Request, instance: Instance, done: str) -> None:
    audit("Controller %s (%s) %s by '%s'", instance.url, instance.xid, done,
          req.context.session.username)


def _controller_body(req: falcon.Request) -> dict:
    """The ``controller`` object of the body, its fields checked (a record for the write
    path; ``Instance.parse`` of it for reading)."""
    body = check_fields(read_json(req), {"controller": dict})
    if "controller" not in body:
        raise _bad_request()
    return check_fields(body["controller"], INSTANCE_FIELDS, where="controller")


class Status:
    auth_required = True

    def __init__(self, collectors: Collectors) -> None:
        self.collectors = collectors

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        request = listrequest.parse(body_of(req), listrequest.CONTROLLERS_STATUS_FIELDS)
        kinds = ["ping"]
        if request.force_update or request.force_license_check:
            kinds.append("clusters")
        config = req.context.config
        data = self.collectors.gather(who(req), config, kinds, force=request.force_update,
                                      peek=DATA_KINDS)
        now = _now()
        by_xid = {i.xid: i for i in config.controllers}
        replies = []
        for c in data:
            clusters = c.payload("clusters") or {}
            ping = c.payload("ping") or {}
            status = controller_status(
                by_xid[c.xid], now=now,
                controller_id=c.controller_id or ping.get("controller_id", ""),
                version=c.version, failure=c.errors.get("ping"),
                data_failures={k: e for k, e in c.errors.items() if k != "ping"},
                license=clusters.get("license"), license_check=clusters.get("license_check"),
                last_seen=self.collectors.last_seen.get(c.xid))
            if status["status"] == "ok":
                self.collectors.note_seen(c.xid, now)
            replies.append(status)
        resp.media = {"controllers": replies}

    on_post = on_get


class _Tester:
    def __init__(self, services: Services, collectors: Collectors) -> None:
        self.services = services
        self.collectors = collectors

    def _test(self, req: falcon.Request, instance: Instance, xid: str) -> dict:
        client, failure = self.collectors.test(who(req), instance,
                                               float(req.context.config.timeout))
        return controller_status(instance, now=_now(), controller_id=client.controller_id,
                                 version=client.version, failure=failure, xid=xid)


class Test(_Tester):
    auth_required = True
    admin_only = True  # viewers: 403 (ccmgr.access.RoleGate)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        instance = Instance.parse(_controller_body(req))
        if len(instance.url.strip()) < 3:
            raise InvalidRequest("invalid controller, missing URL")
        resp.media = {"controller": self._test(req, instance, instance.xid)}


class Add(_Tester):
    auth_required = True
    admin_only = True  # viewers: 403 (ccmgr.access.RoleGate)
    writes = True  # on a secondary, answered by the primary (ccmgr.ha.forward)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = _actor(req, "add")
        candidate = registry.candidate(req.context.config.doc, _controller_body(req))
        status = self._test(req, Instance.parse(candidate), "")
        try:
            added = Instance.parse(registry.add(self.services, actor, candidate))
        except DuplicateURL:  # added by someone else during the test login
            raise DuplicateURL("duplicated URL") from None
        _audit(req, added, "added")
        status["xid"] = added.xid
        status["controller_name"] = added.name
        resp.media = {"controller": status}


class Update(_Tester):
    auth_required = True
    admin_only = True  # viewers: 403 (ccmgr.access.RoleGate)
    writes = True  # on a secondary, answered by the primary (ccmgr.ha.forward)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = _actor(req, "update")
        record = _controller_body(req)
        xid = Instance.parse(record).xid
        if not xid:
            raise InvalidRequest("missing xid")
        updated = Instance.parse(registry.update(self.services, actor, xid, record))
        _audit(req, updated, "updated")
        resp.media = {"controller": self._test(req, updated, xid)}


class Remove:
    auth_required = True
    admin_only = True  # viewers: 403 (ccmgr.access.RoleGate)
    writes = True  # on a secondary, answered by the primary (ccmgr.ha.forward)

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = _actor(req, "remove")
        body = check_fields(read_json(req), {"xid": str, "url": str, "controllerXid": str})
        key = body.get("xid") or body.get("controllerXid") or body.get("url") or ""
        if not key:
            raise _bad_request()
        try:
            removed = Instance.parse(registry.remove(self.services, actor, key,
                                                     fields=("xid", "url")))
        except UnknownController:
            raise NotFound("controller not found") from None
        _audit(req, removed, "removed")
        resp.media = {"type": "Ok", "message": "The controller is removed."}
