"""Outbound HTTP: the only place that builds ``requests`` Sessions (style guide rule 5).

One pooled Session per controller base URL and verification mode, built lazily (gunicorn
forks; nothing is created at import). Rules that matter here:

* ``trust_env = False``: REQUESTS_CA_BUNDLE (set on our hosts) would silently replace
  ``verify``, and proxy variables must never redirect controller traffic.
* One prebuilt ``ssl.SSLContext`` per verification mode, handed to urllib3: with
  ``verify=False`` urllib3 otherwise builds a context per new connection and loads the
  system CA bundle into it (~50 ms CPU each).
* Cookies are never stored: controller sessions (``cmon-sid``) are handled by the cmon
  client explicitly, because cookie jars ignore ports and several identities share a pool.
* Retries only for connection failures (nothing was sent yet); every call passes
  ``timeout=(connect, read)``.
"""

from __future__ import annotations

import http.cookiejar
import logging
import os
import ssl
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

if TYPE_CHECKING:  # cmon.offload imports this module
    from ccmgr.cmon.offload import Offload

POOL_MAXSIZE = 32  # >= gunicorn threads: every request thread may talk to one controller
# Replies read and decoded at once: fetches are many more (one per controller), so that
# the replies of a burst wait in their sockets instead of all at once in memory.
READING_AT_ONCE = 128
CONNECT_RETRIES = 1


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


class _ContextAdapter(HTTPAdapter):
    """An adapter whose pools all use one prebuilt SSL context."""

    def __init__(self, context: ssl.SSLContext, **kw: object) -> None:
        self._context = context
        super().__init__(**kw)

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


def _insecure_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


MAX_CA_FILE = 4 * 1024 * 1024


def _verifying_context(ca_file: str) -> ssl.SSLContext:
    # ca_file comes from the API: refuse devices and huge files instead of reading them.
    info = os.stat(ca_file)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_CA_FILE:
        raise OSError(f"{ca_file}: not a regular PEM file of at most {MAX_CA_FILE} bytes")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=ca_file)
    return context


class GateTimeout(Exception):
    """No turn to read a reply before the caller's deadline (``HttpPool.reading``)."""


class HttpPool:
    """Sessions by (base URL, CA file); ``ca_file`` "" means "do not verify" (cmon default)."""

    def __init__(self, pool_maxsize: int = POOL_MAXSIZE,
                 reading_at_once: int = READING_AT_ONCE) -> None:
        # Unverified TLS is cmon's documented normal (self-signed certificates): one warning
        # per call would flood the log.
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        # Its "Retrying ..." warning repeats every refused connect; our errors say it once.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
        self.pool_maxsize = pool_maxsize
        self._sessions: dict[tuple[str, str], requests.Session] = {}
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self._reading = threading.BoundedSemaphore(reading_at_once)
        # The fetch processes the cmon client sends its POSTs to (cmon.offload.Offload),
        # when the collection uses them; None: the POSTs go through this pool's sessions.
        self.offload: Offload | None = None

    @contextmanager
    def reading(self, deadline: float | None) -> Iterator[None]:
        """A turn to read and decode one reply, waited for until ``deadline`` (monotonic;
        None: without end); raises ``GateTimeout`` when none came."""
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._reading.acquire(timeout=wait):
            raise GateTimeout
        try:
            yield
        finally:
            self._reading.release()

    def _context(self, ca_file: str) -> ssl.SSLContext:
        context = self._contexts.get(ca_file)
        if context is None:
            context = _verifying_context(ca_file) if ca_file else _insecure_context()
            self._contexts[ca_file] = context
        return context

    def session(self, base_url: str, ca_file: str = "") -> requests.Session:
        """The Session for one controller; raises OSError/ssl.SSLError for a bad CA file."""
        key = (base_url, ca_file)
        session = self._sessions.get(key)
        if session is not None:
            return session
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = self._build(ca_file)
                self._sessions[key] = session
        return session

    def _build(self, ca_file: str) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        # verify=True with our own context: urllib3 then loads nothing more into it.
        session.verify = bool(ca_file)
        session.cookies.set_policy(_NoCookies())
        retry = Retry(total=CONNECT_RETRIES, connect=CONNECT_RETRIES, read=0, status=0,
                      redirect=0, other=0, raise_on_status=False)
        adapter = _ContextAdapter(self._context(ca_file), pool_connections=1,
                                  pool_maxsize=self.pool_maxsize, max_retries=retry)
        session.mount("https://", adapter)
        return session

    def forget(self, base_url: str) -> None:
        """Close the pools of a removed or changed controller (also in the fetch process
        that holds them)."""
        if self.offload is not None:
            self.offload.forget(base_url)
        with self._lock:
            keys = [k for k in self._sessions if k[0] == base_url]
            sessions = [self._sessions.pop(k) for k in keys]
        for session in sessions:
            session.close()

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()


def peer_session() -> requests.Session:
    """A Session for calls that do not go to controllers: a write forwarded to the
    primary, ccmgradm asking its own daemon to reload. No retries (a POST is not
    idempotent) and, as above, no environment: proxy variables must not redirect them and
    REQUESTS_CA_BUNDLE must not replace the ``verify`` each call passes."""
    session = requests.Session()
    session.trust_env = False
    return session
