"""Controller status objects of controllers/status, test, add, update (spec §2.6, §4.6). Pure.

The controller is duck-typed too (``Controller``: a ``config.model.Instance``, which views
may not import). The failure passed in is duck-typed: ``.message`` (text) and ``.auth``
(True when cmon said AccessDenied/AuthRequired or there were no credentials to log in with).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from ccmgr.views.common import stamp

OK, FAILED, AUTH_ERROR = "ok", "failed", "authentication-error"
LDAP_OK = "LDAP authentication ok."
LDAP_FAILED = "LDAP authentication failed."
KIND_WORDS = {"clusters": "cluster list", "alarms": "alarms", "jobs": "jobs",
              "backups": "backups", "logs": "logs", "audit": "audit log"}


class Controller(Protocol):
    """The fields of a controller (``Instance``) a status object shows."""

    @property
    def xid(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def frontend_url(self) -> str: ...
    @property
    def useldap(self) -> bool: ...
    @property
    def use_cmon_auth(self) -> bool: ...
    @property
    def keyfile(self) -> str: ...


def _ldap_message(status: str, message: str) -> str:
    if status == OK:
        return LDAP_OK
    if status == AUTH_ERROR:
        return LDAP_FAILED if not message or message.startswith("LDAP") else f"LDAP: {message}"
    return message


def login_kind(instance: Controller) -> str:
    """How ccmgr logs in to the controller (not in cmon-proxy's status: the dashboard shows
    it, so an operator can tell a key-based controller from a password one)."""
    if instance.useldap:
        return "ldap"
    if instance.use_cmon_auth:
        return "cmon"
    return "keyfile" if instance.keyfile else "password"


def controller_status(instance: Controller, *, now: datetime, controller_id: str = "",
                      version: str = "", failure: Any = None,
                      data_failures: Mapping[str, Any] | None = None,
                      license: dict | None = None, license_check: dict | None = None,
                      last_seen: datetime | None = None, xid: str | None = None) -> dict:
    """One status object; ``last_seen`` becomes ``now`` when the controller is ok.

    Unlike cmon-proxy, a recovered controller does not keep its old ``status_message``;
    an ok controller whose data fetches fail says which ones in ``status_message``.
    """
    if failure is None:
        status, message = OK, ""
        problems = [f"{KIND_WORDS.get(k, k)}: {e.message}"
                    for k, e in (data_failures or {}).items() if k in KIND_WORDS]
        message = "; ".join(problems)
        last_seen = now
    else:
        status = AUTH_ERROR if getattr(failure, "auth", False) else FAILED
        message = failure.message
    ldap = instance.useldap
    if ldap and (status != OK or not message):
        message = _ldap_message(status, message)
    body: dict[str, Any] = {
        "xid": instance.xid if xid is None else xid,
        "controller_id": controller_id,
        "controller_name": instance.name,
        "url": instance.url,
    }
    if instance.frontend_url:
        body["frontend_url"] = instance.frontend_url
    body.update({
        "version": version,
        "status_message": message,
        "ldap": ldap,
        "status": status,
        "last_updated": stamp(now),
        "last_seen": stamp(last_seen),
        "license": license,
        "license_check": license_check,
        "login": login_kind(instance),  # ccmgr's addition, after cmon-proxy's keys
    })
    return body
