"""Run-time state of one simulated controller: sessions, faults, counters, reply cache.

All mutation happens on the server's event loop thread, so no locking is needed.
"""

from __future__ import annotations

import random
import secrets
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from .estate import ControllerData
from .faults import Faults
from .users import User

DEFAULT_IDLE_TTL = 1800.0  # idle session lifetime; cmon's is undocumented (reference §1.7)
MAX_SESSIONS = 10_000  # oldest sessions are dropped beyond this, bounding memory
MAX_CACHE_ENTRIES = 512  # pre-serialised replies kept per controller
MAX_CHALLENGES = 1_000  # pending key-based logins kept (oldest dropped)
CHALLENGE_TTL = 60.0  # seconds a key-based login challenge stays answerable


@dataclass
class Session:
    sid: str
    user: User
    created: float
    last_used: float
    login_time: float  # wall clock, for `last_login`
    replies: int = 0  # drives the optional cookie rotation quirk


@dataclass
class ControllerState:
    data: ControllerData
    faults: Faults = field(default_factory=Faults)
    prefix: str = ""  # URL path prefix, e.g. "/api"; "" for none
    idle_ttl: float = DEFAULT_IDLE_TTL
    port: int = 0
    sessions: dict[str, Session] = field(default_factory=dict)
    # Pending key-based logins: cookie value -> (user, challenge, monotonic time).
    challenges: OrderedDict = field(default_factory=OrderedDict)
    counters: Counter = field(default_factory=Counter)  # (path, lower-case op) -> n
    callers: Counter = field(default_factory=Counter)  # (path, session's user name) -> n
    cache: OrderedDict = field(default_factory=OrderedDict)  # key -> payload bytes
    rng: random.Random = field(default_factory=random.Random)  # jitter only

    @property
    def index(self) -> int:
        return self.data.index

    @property
    def name(self) -> str:
        return self.data.name

    # -- users and sessions --------------------------------------------------------------
    def find_user(self, name: str, password: str, ldap_only: bool) -> User | None:
        if self.faults.wrong_credentials:
            return None
        for user in self.data.users:
            if ldap_only and user.origin != "LDAP":
                continue
            if user.user_name == name and secrets.compare_digest(user.password, password):
                return user
        return None

    def find_static_user(self, name: str) -> User | None:
        """A CmonDb user by name (key-based login has no password to check)."""
        if self.faults.wrong_credentials:
            return None
        return next((u for u in self.data.users
                     if u.origin != "LDAP" and u.user_name == name), None)

    def challenge(self, user: User) -> tuple[str, str]:
        """Start a key-based login: (cookie value, challenge)."""
        while len(self.challenges) >= MAX_CHALLENGES:
            self.challenges.popitem(last=False)
        sid, challenge = secrets.token_hex(16), str(uuid.uuid4())
        self.challenges[sid] = (user, challenge, time.monotonic())
        return sid, challenge

    def pending_challenge(self, sids: Iterable[str]) -> tuple[User, str] | None:
        """The challenge one of these cookie values was given (used up by asking)."""
        for sid in sids:
            held = self.challenges.pop(sid, None)
            if held is not None and time.monotonic() - held[2] < CHALLENGE_TTL:
                return held[0], held[1]
        return None

    def login(self, user: User) -> Session:
        now = time.monotonic()
        if len(self.sessions) >= MAX_SESSIONS:
            oldest = min(self.sessions.values(), key=lambda s: s.last_used)
            self.drop_session(oldest)
        sess = Session(secrets.token_hex(16), user, now, now, time.time())
        self.sessions[sess.sid] = sess
        return sess

    def session(self, sid: str) -> Session | None:
        """The live session for `sid`; an expired one is dropped on the way."""
        sess = self.sessions.get(sid)
        if sess is None:
            return None
        now = time.monotonic()
        ttl = self.faults.session_ttl
        if now - sess.last_used > self.idle_ttl or (ttl is not None and now - sess.created >= ttl):
            self.drop_session(sess)
            return None
        sess.last_used = now
        return sess

    def rotate(self, sess: Session) -> str:
        """Give the session an additional cookie value (the old one keeps working)."""
        new_sid = secrets.token_hex(16)
        self.sessions[new_sid] = sess
        return new_sid

    def drop_session(self, sess: Session) -> None:
        for sid in [k for k, v in self.sessions.items() if v is sess]:
            del self.sessions[sid]

    def expire_sessions(self) -> int:
        n = len({id(s) for s in self.sessions.values()})
        self.sessions.clear()
        return n

    # -- counters and cache ----------------------------------------------------------------
    def count(self, path: str, operation: str) -> None:
        self.counters[(path, operation.lower())] += 1

    def counter_rows(self) -> list[dict[str, object]]:
        return [{"path": p, "operation": o, "count": n}
                for (p, o), n in sorted(self.counters.items())]

    def caller_rows(self) -> list[dict[str, object]]:
        return [{"path": p, "user": u, "count": n}
                for (p, u), n in sorted(self.callers.items())]

    def cached(self, key: tuple) -> bytes | None:
        return self.cache.get(key)

    def store(self, key: tuple, payload: bytes) -> None:
        self.cache[key] = payload
        if len(self.cache) > MAX_CACHE_ENTRIES:
            self.cache.popitem(last=False)
