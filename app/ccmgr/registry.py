"""Controllers: the one write path for the API (/proxy/controllers/*), ccmgradm and
seeding.

Each operation takes the node's ``Services`` and the acting identity, checks that the
actor may change controllers, and does the store's locked read-modify-write with the
pure functions of ``ccmgr.instances`` (which keep LDAP controllers free of secrets and
URLs unique). Refusals are ``instances.InstanceError`` and its subclasses, which carry
their status (400, 404, 425); a running daemon forgets the clients, cached data and
connection pools of a changed or removed controller when it sees the new config
(``collectors.clients``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ccmgr import instances
from ccmgr.errors import CcmgrError
from ccmgr.instances import DuplicateURL
from ccmgr.runtime import Services


@dataclass(frozen=True)
class Actor:
    """Who asks: a session's user (``kind`` "local", "ldap" or "token") or ccmgradm
    ("cli"), with its role (``ccmgr.users.ROLES``)."""

    username: str = ""
    kind: str = "cli"
    role: str = "admin"


def check_may_change(actor: Actor, verb: str) -> None:
    if actor.role != "admin":
        raise CcmgrError(f"read-only accounts cant {verb} controllers", status="AccessDenied",
                         http_status=403)
    if actor.kind == "ldap":
        raise CcmgrError(f"LDAP users cant {verb} controllers", status="UnknownError",
                         http_status=403)


def candidate(doc: dict, instance: dict) -> dict:
    """A new controller as it would be stored, checked before its test login (which is
    slow and made outside the lock); ``add`` checks the URL again under the lock."""
    record = {k: v for k, v in instance.items() if k != "xid"}  # always a fresh xid
    record = {k: v for k, v in record.items() if v not in (None, "", False)}
    instances.validate({**record, "url": record.get("url", "").strip()})
    if instances.url_taken(doc, record["url"]):
        raise DuplicateURL("duplicated URL")
    return record


def add(services: Services, actor: Actor, instance: dict) -> dict:
    check_may_change(actor, "add")
    return services.store.update(lambda doc: instances.add(doc, instance))


def update(services: Services, actor: Actor, xid: str, instance: dict) -> dict:
    """The API's update: ``instance`` replaces the controller ``xid`` (secrets kept)."""
    check_may_change(actor, "update")
    return services.store.update(lambda doc: instances.replace(doc, xid, instance))


def change(services: Services, actor: Actor, key: str, changes: dict, *,
           use_ldap: bool) -> dict:
    """ccmgradm updatecontroller: the given fields change, LDAP follows the flag."""
    check_may_change(actor, "update")
    return services.store.update(
        lambda doc: instances.update(doc, key, changes, use_ldap=use_ldap))


def remove(services: Services, actor: Actor, key: str,
           fields: tuple[str, ...] = ("xid", "url", "name")) -> dict:
    check_may_change(actor, "remove")
    return services.store.update(lambda doc: instances.drop(doc, key, fields))
