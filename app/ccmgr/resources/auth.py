"""/proxy/auth/*: login, check, logout, update, setpassword (cmon-proxy spec §2.4).

Replies keep cmon-proxy's envelopes and status codes; unlike cmon-proxy, profile and
password changes are persisted, and a password change revokes the user's other sessions.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import falcon

from ccmgr import accounts
from ccmgr.errors import (
    AccessDenied,
    AuthRequired,
    CcmgrError,
    InvalidRequest,
    RateLimited,
    reply_envelope,
    value_envelope,
)
from ccmgr.fields import check_fields
from ccmgr.logsetup import audit
from ccmgr.middleware import set_session_cookie
from ccmgr.passwords import hash_password, needs_upgrade, verify_password
from ccmgr.resources.requests_in import read_json
from ccmgr.runtime import Services
from ccmgr.sessions import Session, clearing_cookie_header
from ccmgr.users import ECHO_FIELDS, USER_PROFILE_TYPES, UserError, public_user

log = logging.getLogger("ccmgr.auth")
BAD_CREDENTIALS = "User not found or wrong password"
# A hash of a random password: unknown users cost as much time as known ones.
_DUMMY_HASH = hash_password(os.urandom(16).hex())

# An external login (LDAP forwarding to controllers) returns a user dict or None.
ExternalLogin = Callable[[str, str], "dict | None"]


def _user_reply(req: falcon.Request, session: Session) -> dict | None:
    if session.kind == "local":
        user = req.context.config.local_user(session.username)
        return public_user(user) if user else None
    return {"username": session.username, "role": "admin", **session.extra.get("user", {})}


class Login:
    def __init__(self, services: Services, external_login: ExternalLogin | None = None) -> None:
        self.services = services
        self.external_login = external_login

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = check_fields(read_json(req), {"username": str, "password": str,
                                             "ldap_only": bool})
        username, password = body.get("username", ""), body.get("password", "")
        client = req.context.client
        limiter = self.services.limiter
        if not limiter.begin(client, username):  # counts this attempt as a failure
            audit("Login attempt blocked '%s' (source %s / %s): too many failures",
                  username, client, req.user_agent)
            raise RateLimited("Too many failed attempts, please wait")
        session = self._authenticate(req, username, password)
        if session is None:
            audit("Login attempt AccessDenied '%s' (source %s / %s)", username, client,
                  req.user_agent)
            raise AccessDenied(BAD_CREDENTIALS)
        limiter.succeeded(client, username)
        audit("Login attempt Ok '%s' (source %s / %s)", username, client, req.user_agent)
        set_session_cookie(self.services, req, resp, session)
        req.context.session = session
        resp.media = reply_envelope("Ok", user=_user_reply(req, session))

    def _authenticate(self, req: falcon.Request, username: str, password: str) -> Session | None:
        user = req.context.config.local_user(username) if username else None
        if user is None:
            verify_password(password, _DUMMY_HASH)
            if self.external_login is not None and username and password:
                external = self.external_login(username, password)
                if external is not None:
                    return self.services.sessions.issue(username, kind="ldap", extra=external)
            return None
        stored = user.passwordhash
        if not verify_password(password, stored):
            return None
        if needs_upgrade(stored) and req.context.config.role != "secondary":
            self._upgrade_hash(username, stored, password)  # secondaries never write
        return self.services.sessions.issue(username, account=user.account_id)

    def _upgrade_hash(self, username: str, stored: str, password: str) -> None:
        """Replace a cmon-proxy hash with a passlib one, unless it changed meanwhile."""
        try:
            accounts.upgrade_hash(self.services, username, stored, password)
            req_log = "upgraded the password hash of '%s' to PBKDF2-SHA256 (passlib)"
            log.info(req_log, username)
        except Exception:  # the login itself succeeded; an upgrade can wait for the next one
            log.exception("could not upgrade the password hash of '%s'", username)


class Check:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = req.context.session
        if session is None:
            raise AuthRequired("not authenticated")
        resp.media = reply_envelope("Ok", user=_user_reply(req, session))

    on_post = on_get


class Logout:
    writes = True  # the revocation must reach the primary, which replicates it
    local_when_primary_down = True

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = req.context.session
        if session is not None and session.kind != "token":  # a token ends by revocation
            self.services.sessions.revoke(session, req.context.config.session_ttl_seconds)
            audit("Logout '%s' (source %s)", session.username, req.context.client)
            resp.append_header("Set-Cookie", clearing_cookie_header(
                req.context.config.doc["session_samesite"]))
            req.context.cookie_set = True
        resp.media = value_envelope("Ok")

    on_post = on_get


def _require_local(req: falcon.Request) -> Session:
    session = req.context.session
    if session is None:
        raise AuthRequired("not authenticated")
    return session


class UpdateProfile:
    writes = True

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = check_fields(read_json(req), {"user": dict})
        if "user" not in body:
            raise InvalidRequest(" missing user")
        fields = check_fields(body["user"], USER_PROFILE_TYPES, where="user",
                              ignored=("passwordhash", *ECHO_FIELDS))
        session = _require_local(req)
        if fields.get("username") != session.username:
            raise AccessDenied("wrong username")
        if session.kind != "local":
            raise CcmgrError("failed to update user: not a local user", status="InvalidRequest",
                             shape="envelope")
        try:
            user = accounts.update_profile(self.services, session.username, fields)
        except UserError as exc:
            raise CcmgrError(f"wrong user: {exc}", status="InvalidRequest",
                             shape="envelope") from None
        audit("Profile of '%s' updated (source %s)", session.username, req.context.client)
        resp.media = reply_envelope("Ok", user=user)


class SetPassword:
    writes = True

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = check_fields(read_json(req), {"old_password": str, "new_password": str})
        session = _require_local(req)
        config = req.context.config
        user = config.local_user(session.username) if session.kind == "local" else None
        limiter = self.services.limiter
        if not limiter.begin(req.context.client, session.username):
            raise RateLimited("Too many failed attempts, please wait")
        if user is None or not verify_password(body.get("old_password", ""), user.passwordhash):
            raise AccessDenied("wrong old password", extra={"user": _user_reply(req, session)})
        limiter.succeeded(req.context.client, session.username)
        new_password = body.get("new_password", "")
        if not new_password:
            raise CcmgrError("invalid new password", status="InvalidRequest", shape="envelope")
        try:
            reply_user = accounts.set_password(self.services, session.username, new_password)
        except UserError as exc:  # removed since the check above
            raise CcmgrError(f"failed to update user: {exc}", status="InvalidRequest",
                             shape="envelope") from None
        # Every other session of this user ended there; this browser gets a fresh one.
        set_session_cookie(self.services, req, resp, self.services.sessions.issue(
            session.username, account=session.account))
        audit("Password of '%s' changed (source %s)", session.username, req.context.client)
        resp.media = reply_envelope("Ok", user=reply_user)
