"""Signed, stateless sessions that survive restarts and work on every node.

The ``sid`` cookie carries ``{sid, user, kind, issued, active}`` signed with HMAC-SHA256
under a cluster-wide secret (``session.key`` in the basedir, 0600). No server-side
session table exists, so a restart or a failover logs nobody out. Revocation is a
small file next to it: single sessions (logout) until they would have expired anyway,
and per-user cut-off times (password change, drop). Expiry is idle-based: ``active`` is
refreshed by re-issuing the cookie at most once a minute (sooner for short TTLs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from ccmgr.fsutil import atomic_write, file_signature, locked

COOKIE_NAME = "sid"
REFRESH_AFTER_S = 60
MAX_VERIFIED = 4096  # tokens whose signature was checked, kept with the secret they fit


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Account(Protocol):
    """A local user as sessions see it (``config.model.User``)."""

    @property
    def account_id(self) -> str: ...


@dataclass(frozen=True)
class Session:
    sid: str
    username: str
    issued_ms: int
    active_ms: int
    kind: str = "local"  # "local" (a ccmgr user) or "ldap" (forwarded to controllers)
    extra: dict = field(default_factory=dict)
    # The user's account_id when the session was made: a user dropped and added again
    # under the same name is another account, and the old sessions do not fit it.
    account: str = ""

    def fits(self, user: Account | None) -> bool:
        """Whether this local session belongs to ``user`` (the one now under its name)."""
        return user is not None and user.account_id == self.account


class SecretFile:
    """The HMAC secret, created on first use with mode 0600, re-read when the file changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._signature: tuple | None = None
        self._secret = b""
        self._mutex = threading.Lock()

    def ensure(self) -> None:
        if os.path.exists(self.path):
            return
        with locked(self.path + ".lock"):
            if not os.path.exists(self.path):
                atomic_write(self.path, (secrets.token_hex(32) + "\n").encode(), 0o600)

    def get(self) -> bytes:
        signature = file_signature(self.path)
        with self._mutex:
            if signature != self._signature or not self._secret:
                if signature is None:
                    self.ensure()
                    signature = file_signature(self.path)
                with open(self.path, encoding="ascii") as handle:
                    text = handle.read().strip()
                if len(text) < 32:
                    raise ValueError(f"{self.path}: session secret is too short")
                self._secret, self._signature = text.encode(), signature
            return self._secret

    def derive(self, purpose: str) -> str:
        """A value derived from the secret for one purpose (e.g. the local reload token)."""
        return hmac.new(self.get(), purpose.encode(), hashlib.sha256).hexdigest()


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


class Revocations:
    """Revoked sessions and per-user cut-offs, shared by workers through one JSON file."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._signature: tuple | None = None
        self._data: dict = {"sessions": {}, "users": {}}
        self._mutex = threading.Lock()
        self.after_change: list[Callable[[], None]] = []  # replication pushes revocations

    def _read(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return {"sessions": {}, "users": {}}
        except (OSError, ValueError):
            # A damaged file must not log everybody in or out: keep what we had.
            return self._data
        return {"sessions": dict(data.get("sessions") or {}),
                "users": dict(data.get("users") or {})}

    def snapshot(self) -> dict:
        signature = file_signature(self.path)
        with self._mutex:
            if signature != self._signature:
                self._data, self._signature = self._read(), signature
            return self._data

    def _update(self, change: Callable[[dict], None], *, notify: bool = True) -> None:
        with locked(self.path + ".lock"):
            data = self._read()
            now_ms = int(self.clock() * 1000)
            data["sessions"] = {k: v for k, v in data["sessions"].items() if v > now_ms}
            change(data)
            atomic_write(self.path, json.dumps(data, sort_keys=True).encode(), 0o600)
        for hook in self.after_change if notify else ():
            hook()

    def revoke_session(self, sid: str, until_ms: int) -> None:
        self._update(lambda data: data["sessions"].__setitem__(sid, until_ms))

    def revoke_user(self, username: str, before_ms: int) -> None:
        self._update(lambda data: data["users"].__setitem__(username, before_ms))

    def merge(self, other: object) -> bool:
        """Union with revocations from another node (replication): nothing is un-revoked.
        Anything but a mapping (a peer's answer without revocations) merges nothing.
        Returns whether anything was new here."""
        if not isinstance(other, dict):
            return False
        sessions = {k: v for k, v in _mapping(other.get("sessions")).items()
                    if isinstance(k, str) and isinstance(v, int)}
        users = {k: v for k, v in _mapping(other.get("users")).items()
                 if isinstance(k, str) and isinstance(v, int)}
        current = self.snapshot()
        if all(current["sessions"].get(k, -1) >= v for k, v in sessions.items()) and all(
                current["users"].get(k, -1) >= v for k, v in users.items()):
            return False

        def change(data: dict) -> None:
            for key, value in sessions.items():
                data["sessions"][key] = max(value, data["sessions"].get(key, value))
            for key, value in users.items():
                data["users"][key] = max(value, data["users"].get(key, value))
        self._update(change, notify=False)
        return True

    def forget_user(self, username: str) -> None:
        def change(data: dict) -> None:
            data["users"].pop(username, None)
        self._update(change)

    def is_revoked(self, session: Session) -> bool:
        data = self.snapshot()
        if session.sid in data["sessions"]:
            return True
        cutoff = data["users"].get(session.username)
        return cutoff is not None and session.issued_ms <= cutoff


class SessionManager:
    """Issues and checks ``sid`` tokens."""

    def __init__(self, secret: SecretFile, revocations: Revocations,
                 clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.revocations = revocations
        self.clock = clock
        # token -> (the secret it was checked with, its session): a browser or a script
        # sends the same token with every request until it is re-issued, and its HMAC
        # and JSON are the same each time. Expiry and revocation are checked every time.
        self._verified: dict[str, tuple[bytes, Session]] = {}

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def issue(self, username: str, *, kind: str = "local", extra: dict | None = None,
              account: str = "") -> Session:
        now = self._now_ms()
        cutoff = self.revocations.snapshot()["users"].get(username)
        if cutoff is not None and now <= cutoff:
            now = cutoff + 1  # a session made right after a revocation must survive it
        return Session(sid=secrets.token_hex(10), username=username, issued_ms=now,
                       active_ms=now, kind=kind, extra=dict(extra or {}), account=account)

    def encode(self, session: Session) -> str:
        payload = {"s": session.sid, "u": session.username, "i": session.issued_ms,
                   "a": session.active_ms, "k": session.kind}
        if session.extra:
            payload["x"] = session.extra
        if session.account:
            payload["ac"] = session.account
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        mac = hmac.new(self.secret.get(), body.encode(), hashlib.sha256).digest()
        return f"v1.{body}.{_b64(mac)}"

    def decode(self, token: str, ttl_s: float) -> Session | None:
        """The session in a valid, unexpired, unrevoked token; None for anything else."""
        try:
            key = self.secret.get()
        except ValueError:  # a broken secret file: no session is valid (as before)
            return None
        held = self._verified.get(token)
        if held is not None and held[0] == key:
            session = held[1]
        else:
            session = self._verify(token, key)
            if session is None:
                return None
            if len(self._verified) >= MAX_VERIFIED:  # bounded: tokens are re-issued
                self._verified.clear()
            self._verified[token] = (key, session)
        now = self._now_ms()
        if session.active_ms + ttl_s * 1000 < now or session.issued_ms > now + 60_000:
            return None
        if self.revocations.is_revoked(session):
            return None
        return session

    @staticmethod
    def _verify(token: str, key: bytes) -> Session | None:
        """The session in ``token`` if its signature fits ``key`` and its fields parse."""
        try:
            version, body, mac = token.split(".")
            if version != "v1":
                return None
            expected = hmac.new(key, body.encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(mac)):
                return None
            payload = json.loads(_unb64(body))
            return Session(sid=str(payload["s"]), username=str(payload["u"]),
                           issued_ms=int(payload["i"]), active_ms=int(payload["a"]),
                           kind=str(payload.get("k", "local")),
                           extra=dict(payload.get("x") or {}),
                           account=str(payload.get("ac", "")))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def needs_refresh(self, session: Session, ttl_s: float) -> bool:
        """Re-issue the cookie once a minute, or sooner when the TTL is short."""
        interval_s = min(REFRESH_AFTER_S, ttl_s / 4)
        return self._now_ms() - session.active_ms >= interval_s * 1000

    def touched(self, session: Session) -> Session:
        return replace(session, active_ms=self._now_ms())

    def revoke(self, session: Session, ttl_s: float) -> None:
        self.revocations.revoke_session(session.sid, session.active_ms + int(ttl_s * 1000) + 1)

    def revoke_user(self, username: str) -> None:
        self.revocations.revoke_user(username, self._now_ms())


def cookie_header(token: str, *, samesite: str = "Strict", max_age: int | None = None) -> str:
    """The Set-Cookie value: HttpOnly and Secure always, SameSite as configured."""
    parts = [f"{COOKIE_NAME}={token}", "Path=/", "HttpOnly", "Secure", f"SameSite={samesite}"]
    if max_age is not None:
        parts.insert(2, f"Max-Age={max_age}")
    return "; ".join(parts)


def clearing_cookie_header(samesite: str = "Strict") -> str:
    return cookie_header("", samesite=samesite, max_age=0)


