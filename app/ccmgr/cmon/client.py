"""A cmon RPC v2 client for one controller and one identity (cmon-proxy spec §5.1-§5.3).

Every call is a POST of a JSON object to ``https://<url>[/prefix]/v2/<module>``. The
``cmon-sid`` cookie is kept here (never in a cookie jar) and replaced whenever a reply
sets a new one. A call without a session logs in first; HTTP 401/403, or an HTTP 200 reply
whose ``request_status`` is ``AuthRequired`` (s9s reads only the body, and a cmon may say so
in the body alone: reference §1.6), triggers exactly one re-login and one retry. Every
failure is raised as a ``collectors.errors`` type.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

import requests
import urllib3

from ccmgr.cmon import keyauth, wire
from ccmgr.cmon.errors import (
    AuthFailed,
    BadReply,
    CmonError,
    ConnectFailed,
    Timeout,
    TLSFailed,
    controller_error,
)
from ccmgr.http import GateTimeout, HttpPool
from ccmgr.jsonfast import loads

CONNECT_TIMEOUT = 3.0  # cmon-proxy's dial timeout
MIN_READ_TIMEOUT = 0.05


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


@dataclass(frozen=True)
class _Reply:
    """One controller reply, read whole."""

    status_code: int
    headers: Mapping[str, str]
    set_cookies: list[str]
    body: bytes
    typed: wire.Envelope | None = None  # the body decoded by the caller's ``decode``


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


class CmonClient:
    """Thread-safe: several data kinds of one controller may be fetched at once."""

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
        self.controller_id = ""
        self.version = ""
        self.last_status = ""  # request_status of the last reply (auth classification)
        self.user: dict = {}
        self._auth_lock = threading.Lock()

    # -- transport -----------------------------------------------------------------------
    def _post(self, module: str, body: dict, deadline: float | None, sid: str,
              decode: Callable[[bytes], wire.Envelope | None] | None = None) -> _Reply:
        remaining = self.timeout if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            raise Timeout(f"no reply from {self.base} within {self.timeout:g}s")
        read = max(MIN_READ_TIMEOUT, remaining)
        headers = {"Content-Type": "application/json"}
        if sid:
            headers["Cookie"] = f"cmon-sid={sid}"
        url = f"{self.base}/v2/{module}"
        try:
            session = self.http.session(self.base, self.ca_file)
        except OSError as exc:  # an unreadable or invalid ca_file (ssl.SSLError included)
            raise TLSFailed(f"cannot use ca_file {self.ca_file!r}: {exc}") from None
        try:
            data = json.dumps(body)
            try:
                response = session.post(url, data=data, headers=headers, stream=True,
                                        timeout=(min(CONNECT_TIMEOUT, read), read))
            except requests.exceptions.ConnectionError as exc:
                # A pooled keep-alive connection the controller closed meanwhile fails
                # before any reply; every call here only reads, so one retry is safe.
                if not _aborted(exc):
                    raise
                read = max(MIN_READ_TIMEOUT, deadline - time.monotonic()) \
                    if deadline is not None else read
                response = session.post(url, data=data, headers=headers, stream=True,
                                        timeout=(min(CONNECT_TIMEOUT, read), read))
            return self._read_whole(response, deadline, decode)
        except (requests.exceptions.SSLError, urllib3.exceptions.SSLError) as exc:
            raise TLSFailed(f'Post "{url}": TLS failure: {_reason(exc)}') from None
        except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout,
                urllib3.exceptions.ReadTimeoutError):
            raise Timeout(f'Post "{url}": no reply within {read:.3g}s (timeout)') from None
        except requests.exceptions.ConnectionError as exc:
            raise ConnectFailed(f'Post "{url}": {_reason(exc)}') from None
        except urllib3.exceptions.ProtocolError as exc:  # the body broke off
            raise BadReply(f'Post "{url}": reply broken off: {_reason(exc)}') from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise BadReply(f'Post "{url}": {_reason(exc)}') from None
        except OSError as exc:  # a socket error no library layer wrapped
            raise ConnectFailed(f'Post "{url}": {_reason(exc)}') from None

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
    def _read_whole(self, response: requests.Response, deadline: float | None,
                    decode: Callable[[bytes], wire.Envelope | None] | None) -> _Reply:
        """The body in one read (requests' own ``content`` reads 10 KiB at a time: in a
        burst ~20 lock round trips per reply instead of one), and ``decode``-d, within the
        pool's reply gate (``HttpPool.reading``): replies that arrive together wait in
        their sockets, not in the worker's memory. A reply read to its end hands its
        connection back to the pool; ``close`` then only frees one that broke off."""
        try:
            with self.http.reading(deadline):
                data = response.raw.read(decode_content=True)
                typed = decode(data) if decode is not None else None
            return _Reply(response.status_code, response.headers,
                          response.raw.headers.getlist("Set-Cookie"), data, typed)
        except GateTimeout:
            raise Timeout(f"no reply from {self.base} read within {self.timeout:g}s "
                          "(busy reading other replies)") from None
        finally:
            response.close()

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


def _aborted(exc: BaseException) -> bool:
    text = repr(exc)
    return "Connection aborted" in text or "RemoteDisconnected" in text


def _reason(exc: BaseException) -> str:
    """The innermost cause, without urllib3's pool/object noise."""
    inner: BaseException = exc
    seen = set()
    while True:
        nxt = inner.__cause__ or inner.__context__
        if isinstance(inner.args[0] if inner.args else None, BaseException):
            nxt = inner.args[0]
        reason = getattr(inner, "reason", None)
        if isinstance(reason, BaseException):
            nxt = reason
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(inner))
        inner = nxt
    text = str(inner) or type(inner).__name__
    if "Connection refused" in text:
        return "connect: connection refused"
    if "reset by peer" in text:
        return "read: connection reset by peer"
    return text


__all__ = ["CmonClient", "CmonError", "Credentials", "base_url"]
