"""Who may do what (issue 13): Bearer API tokens and the viewer role.

``BearerAuth`` runs before the session gate: a request carrying ``Authorization: Bearer
<token>`` acts as that token (a session of kind "token" that is never written to a cookie);
an unknown, revoked or expired token is a 401 whatever the endpoint. ``RoleGate`` runs after
it: a resource that declares ``admin_only = True`` refuses viewers (users with
``role: viewer`` and viewer tokens) with 403 in the resource's own envelope
(``denied_shape``), before anything is read or forwarded to a primary.
"""

from __future__ import annotations

import time

import falcon

from ccmgr import apitokens
from ccmgr.errors import ENVELOPE, ERROR_OBJECT, AuthRequired, CcmgrError
from ccmgr.sessions import Session
from ccmgr.users import ADMIN_ROLE, VIEWER_ROLE

TOKEN_KIND = "token"  # noqa: S105 (a session kind, not a secret)


def bearer_secret(req: falcon.Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None without one."""
    header = req.get_header("Authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def role_of_request(req: falcon.Request) -> str:
    """admin | viewer for the request's session; LDAP and cmon-auth users are admins whose
    rights the controller bounds (they may still not change controllers)."""
    session = getattr(req.context, "session", None)
    if session is None:
        return ADMIN_ROLE
    if session.kind == TOKEN_KIND:
        return session.extra.get("role", VIEWER_ROLE)
    if session.kind == "local":
        user = req.context.config.local_user(session.username)
        return user.effective_role if user is not None else ADMIN_ROLE
    return ADMIN_ROLE


class GateAuthRequired(AuthRequired):
    """The session gate's 401: cmon-proxy's gate leaves both times empty (spec §2.1.3)."""

    def body(self) -> dict:
        return {**super().body(), "request_processed": ""}


class BearerAuth:
    def process_resource(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, params: dict) -> None:
        req.context.bearer = None
        secret = bearer_secret(req)
        if secret is None:
            return
        record = apitokens.lookup(req.context.config.doc.get("tokens") or [], secret)
        if record is None:
            if getattr(resource, "other_bearer_tokens", False):
                return  # e.g. /metrics, which also takes the node's metrics token itself
            raise AuthRequired("invalid, revoked or expired API token")
        now_ms = int(time.time() * 1000)
        name = record["name"]
        req.context.bearer = Session(
            sid=f"token:{name}", username=f"token:{name}", issued_ms=now_ms,
            active_ms=now_ms, kind=TOKEN_KIND,
            extra={"role": record["role"], "user": {"role": record["role"], "token": name}})


class RoleGate:
    def process_resource(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, params: dict) -> None:
        if not getattr(resource, "admin_only", False):
            return
        if getattr(req.context, "session", None) is None:
            return  # the resource refuses (or serves) anonymous requests itself
        if role_of_request(req) == VIEWER_ROLE:
            shape = getattr(resource, "denied_shape", ERROR_OBJECT)
            raise CcmgrError("this account is read-only (role viewer)", status="AccessDenied",
                             http_status=403, shape=shape if shape in (
                                 ENVELOPE, ERROR_OBJECT) else ERROR_OBJECT)
