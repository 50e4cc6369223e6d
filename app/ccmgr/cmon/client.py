"""A cmon RPC v2 client for one controller and one identity (cmon-proxy spec §5.1-§5.3).

Every call is a POST of a JSON object to ``https://<url>[/prefix]/v2/<module>``. The
``cmon-sid`` cookie is kept here (never in a cookie jar) and replaced whenever a reply
sets a new one. A call without a session logs in first; HTTP 401/403, or an HTTP 200 reply
whose ``request_status`` is ``AuthRequired`` (s9s reads only the body, and a cmon may say so
in the body alone: reference §1.6), triggers exactly one re-login and one retry. Every
failure is raised as a ``collectors.errors`` type.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

from ccmgr.cmon import keyauth, transport, wire
from ccmgr.cmon.errors import (
    AuthFailed,
    BadReply,
    CmonError,
    controller_error,
)
from ccmgr.http import GateTimeout, HttpPool
from ccmgr.jsonfast import loads


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    ldap_only: bool = False
    keyfile: str = ""  # used when there is no password (key-based login)
    missing_reason: str = "no password or keyfile is defined"


def base_url(url: str) -> str:
    """``host:port[/prefix]`` → ``https://host:port[/prefix]`` without trailing slashes."""
    url = url.strip()
    if not url.startswith("https://"):
        url = "https://" + url
    return url.rstrip("/")


_Reply = transport.Reply


def _sid_from(reply: _Reply) -> str | None:
    for header in reply.set_cookies:
        try:
            cookie = SimpleCookie()
            cookie.load(header)
        except CookieError:
            continue
        if "cmon-sid" in cookie:
            return cookie["cmon-sid"].value
    return None


def _version_from(server: str) -> str:
    """``cmon/1.8.2`` → ``1.8.2`` (quotes and blanks trimmed)."""
    value = server.strip().strip('"').strip()
    return value.split("/", 1)[1].strip() if "/" in value else value


_state_lock = threading.Lock()
_state_changes = 0


def state_changes() -> int:
    """How many times any client of this process has changed its controller id, version or
    last status: a kept gather result copied those, and is valid while this stays put
    (one comparison per request instead of one per controller)."""
    return _state_changes


def _state_changed() -> None:
    global _state_changes
    with _state_lock:  # += is not atomic between threads; a lost count would hide a change
        _state_changes += 1


class _Counted:
    """A str attribute of a client that gather results copy: each real change counts."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, client: object | None, owner: type | None = None) -> str:
        if client is None:  # read on the class
            return ""
        return client.__dict__.get(self.slot, "")

    def __set__(self, client: object, value: str) -> None:
        if client.__dict__.get(self.slot, "") != value:
            client.__dict__[self.slot] = value
            _state_changed()


class CmonClient:
    """Thread-safe: several data kinds of one controller may be fetched at once."""

    controller_id = _Counted()
    version = _Counted()
    last_status = _Counted()  # request_status of the last reply (auth classification)

    def __init__(self, http: HttpPool, url: str, credentials: Credentials, *,
                 ca_file: str = "", timeout: float = 30.0) -> None:
        self.http = http
        self.url = url
        self.base = base_url(url)
        self.credentials = credentials
        self.ca_file = ca_file
        self.timeout = timeout
        self.sid = ""
        self.logged_in_at = 0.0  # wall time of the last successful login; 0 = never
        self.user: dict = {}
        self._auth_lock = threading.Lock()

    # -- transport -----------------------------------------------------------------------
    def _post(self, module: str, body: dict, deadline: float | None, sid: str,
              decode: Callable[[bytes], wire.Envelope | None] | None = None) -> _Reply:
        """One POST, read whole: in this process, or in a fetch process
        (``HttpPool.offload``, cmon.offload) that returns the body for ``decode`` here."""
        request = transport.Request(self.base, self.ca_file, module, json.dumps(body), sid,
                                    deadline, self.timeout)
        offload = self.http.offload
        if offload is None:
            return transport.post(self.http, request, decode)
        reply = offload.post(request)
        if decode is None:
            return reply
        try:
            with self.http.reading(deadline):
                return dataclasses.replace(reply, typed=decode(reply.body))
        except GateTimeout:
            raise transport.gate_timeout(self.base, self.timeout) from None

    def _decode(self, module: str, response: _Reply,
                typed: wire.Envelope | None = None) -> dict:
        """The reply as a dict; of a ``typed`` one, only its envelope fields."""
        sid = _sid_from(response)
        if sid:
            self.sid = sid
        reply = wire.envelope_fields(typed) if typed is not None else None
        if reply is None:
            try:
                reply = loads(response.body)
            except ValueError:
                kind = response.headers.get("Content-Type", "no content type")
                raise BadReply(f"{self.base}/v2/{module}: HTTP {response.status_code}, "
                               f"not a JSON reply ({kind}, {len(response.body)} bytes)"
                               ) from None
        if not isinstance(reply, dict) or "request_status" not in reply:
            raise BadReply(f"{self.base}/v2/{module}: HTTP {response.status_code}, "
                           "reply without request_status")
        self.last_status = str(reply.get("request_status"))
        if reply.get("controller_id"):
            self.controller_id = str(reply["controller_id"])
        return reply

    # -- authentication --------------------------------------------------------------------
    def authenticate(self, deadline: float | None = None, *, stale_sid: str = "") -> dict:
        """Log in; with ``stale_sid``, only if nobody replaced that session meanwhile.

        With a password: ``authenticateWithPassword``. With only a key file: the
        two-step key login, ``authenticate`` (a challenge, usually with a cookie of its
        own) and ``authenticateResponse`` with the challenge's signature."""
        with self._auth_lock:
            if stale_sid != self.sid and self.sid:
                return {}
            creds = self.credentials
            if not creds.username or not (creds.password or creds.keyfile):
                self.last_status = "AuthRequired"
                raise AuthFailed.no_credentials(creds.missing_reason)
            self.sid = ""
            if creds.password:
                body: dict[str, Any] = {"operation": "authenticateWithPassword",
                                        "user_name": creds.username, "password": creds.password}
                if creds.ldap_only:
                    body["ldap_only"] = True
                response, reply = self._auth_step(body, deadline)
            else:
                response, reply = self._key_login(creds, deadline)
            if response.status_code >= 400:
                raise BadReply(f"{self.base}/v2/auth: HTTP {response.status_code}")
            if not self.sid:
                raise BadReply(f"{self.base}/v2/auth: login reply without a cmon-sid cookie")
            self.user = reply.get("user") if isinstance(reply.get("user"), dict) else {}
            self.logged_in_at = time.time()  # wall time, for the metrics
            return reply

    def _key_login(self, creds: Credentials, deadline: float | None) -> tuple[_Reply, dict]:
        try:
            key = keyauth.load_key(creds.keyfile)
        except AuthFailed:
            self.last_status = "AuthRequired"
            raise
        _, first = self._auth_step({"operation": "authenticate", "user_name": creds.username,
                                    "password": ""}, deadline)
        challenge = first.get("challenge")
        if not isinstance(challenge, str) or not challenge:
            raise BadReply(f"{self.base}/v2/auth: key login reply without a challenge")
        pending, self.sid = self.sid, ""  # the login reply must set a session of its own
        return self._auth_step({"operation": "authenticateResponse",
                                "signature": keyauth.sign(key, challenge)}, deadline, pending)

    def _auth_step(self, body: dict, deadline: float | None,
                   sid: str = "") -> tuple[_Reply, dict]:
        response = self._post("auth", body, deadline, sid)
        server = response.headers.get("Server", "")
        if server:
            self.version = _version_from(server)
        reply = self._decode("auth", response)
        if reply.get("request_status") != "Ok":
            self.sid = ""
            raise controller_error(str(reply.get("request_status")),
                                   str(reply.get("error_string", "")))
        return response, reply

    # -- calls -----------------------------------------------------------------------------
    def _post_logged_in(self, module: str, body: dict, deadline: float | None,
                        decode: Callable[[bytes], wire.Envelope | None] | None = None):
        """The POST with this client's session, logging in first when it has none, and once
        more (with one retry) when the controller says the session is gone: HTTP 401/403 or
        ``request_status: AuthRequired`` in a 200 body."""
        if not self.sid:
            self.authenticate(deadline)
        sid = self.sid
        response = self._post(module, body, deadline, sid, decode)
        if response.status_code in (401, 403) or _says_auth_required(response):
            self.authenticate(deadline, stale_sid=sid)
            response = self._post(module, body, deadline, self.sid, decode)
        return response

    def call(self, module: str, body: dict, deadline: float | None = None) -> dict:
        """One RPC; returns the reply of a ``request_status: Ok`` answer, raises otherwise."""
        return self._checked(module, body, deadline, None)[0]

    def call_typed(self, module: str, body: dict, deadline: float | None,
                   decode: Callable[[bytes], wire.Envelope | None]
                   ) -> tuple[wire.Envelope | None, bytes]:
        """One RPC judged as ``call`` judges it, for big replies decoded straight into
        typed records (``cmon.wire``): the typed reply, or None when ``decode`` cannot
        read it (the caller then reads the body the tolerant way), and the body."""
        typed, response = self._checked(module, body, deadline, decode)[1:]
        return typed, response.body

    def _checked(self, module: str, body: dict, deadline: float | None,
                 decode: Callable[[bytes], wire.Envelope | None] | None
                 ) -> tuple[dict, wire.Envelope | None, _Reply]:
        response = self._post_logged_in(module, body, deadline, decode)
        typed = response.typed
        reply = self._decode(module, response, typed)
        status = str(reply.get("request_status"))
        if status != "Ok":
            raise controller_error(status, str(reply.get("error_string", "")))
        if response.status_code >= 400:
            raise BadReply(f"{self.base}/v2/{module}: HTTP {response.status_code}")
        return reply, typed, response

    def relay(self, module: str, body: dict, deadline: float | None = None
              ) -> tuple[int, str, bytes]:
        """One RPC passed through as is (``/v2/*any``): (HTTP status, content type, body).

        The reply is not judged (any ``request_status`` is the caller's business); only a
        lost session is, with one re-login and one retry as for every call. Transport
        failures raise as in ``call``."""
        response = self._post_logged_in(module, body, deadline)
        new_sid = _sid_from(response)
        if new_sid:
            self.sid = new_sid
        return (response.status_code, response.headers.get("Content-Type", ""),
                response.body)

    def ping(self, deadline: float | None = None) -> dict:
        reply = self.call("clusters", {"operation": "ping", "cluster_id": 0}, deadline)
        if reply.get("package_version"):
            self.version = str(reply["package_version"])
        return reply


def _says_auth_required(response: _Reply) -> bool:
    """An HTTP 200 whose body says the session is gone (the cheap test first: a full
    reply is ~200 KiB and this runs on every call)."""
    if b"AuthRequired" not in response.body[:512]:
        return False
    try:
        reply = loads(response.body)
    except ValueError:
        return False
    return isinstance(reply, dict) and reply.get("request_status") == "AuthRequired"


__all__ = ["CmonClient", "CmonError", "Credentials", "base_url"]
