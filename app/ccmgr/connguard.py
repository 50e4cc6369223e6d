"""gunicorn's gthread worker with a front that keeps idle and slow clients off the threads.

gunicorn 27's gthread worker hands every new connection to one of its threads, which
waits up to 5 s for a first byte and then does the TLS handshake and reads the request
with no timeout at all: 32 clients that complete a TLS handshake and then say nothing held
all 32 threads (``/health`` included) for as long as they stayed, and 200 silent TCP
clients kept the threads busy 5 s each, over and over (docs/benchmarks.md, "Robustness").
gunicorn has no setting for a request-header deadline, and its other workers do not fit
(gevent is not installed, the ASGI worker needs an ASGI app).

So the worker's own selector loop, which already watches kept-alive connections, also
does the TLS handshake and reads the request header and a small body without blocking.
A connection reaches a thread only with a complete request in its buffer; one that has
not sent it within ``CCMGR_HEADER_TIMEOUT`` seconds (default 5; ``CCMGR_BODY_TIMEOUT``
more once the header is in), or sits idle on keep-alive past gunicorn's ``keepalive``, is
closed. Threads then use a socket timeout, so a client that stops reading its reply frees
its thread too. When the worker is full, the connections that have waited longest for a
request are closed first to make room.

A thread that has answered on a kept-alive connection waits ``CCMGR_KEEPALIVE_LINGER``
seconds (default 0.002; 0 turns it off) for the client's next request when no other
request waits for a thread, and serves it itself if it arrives whole: a busy client then
skips the round through the selector loop and the thread pool's queue, each a hand-over
of the interpreter between threads (docs/benchmarks.md, "Fifth sitting"). Anything less than
a whole request goes to the front with what was read, under the front's deadlines, so
the wait never holds a thread for a slow client.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import resource
import select
import selectors
import ssl
import time
from functools import partial

from gunicorn import http
from gunicorn import sock as gsock
from gunicorn.workers import gthread

HEADER_END = b"\r\n\r\n"
#: A longer header goes to gunicorn's parser as it is, which refuses it.
MAX_HEAD = 64 * 1024
#: ccmgr's request body limit (requests_in.DEFAULT_LIMIT): a larger body is refused unread.
MAX_BODY = 64 * 1024
#: How long a stopping worker keeps connections that have not sent a request yet.
STOP_LINGER = 2.0
#: Expired connections are looked for at most this often (the loop wakes at least every 1 s).
SWEEP_EVERY = 0.25
#: Requests one thread serves in a row on one connection before it goes back to the loop.
MAX_IN_A_ROW = 100
#: ``handle``'s answer for a connection whose next request is only partly read.
_TO_FRONT = object()

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d{1,12})[ \t]*\r\n", re.I)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding[ \t]*:[^\r\n]*chunked", re.I)
_EXPECT = re.compile(rb"\r\nexpect[ \t]*:", re.I)


def _seconds(name: str, default: float, *, allow_zero: bool = False) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 or (allow_zero and value == 0) else default


def _chunked_end(buf: bytes, pos: int) -> int | None:
    """Offset just past the chunked body that starts at ``pos``; None while it is
    incomplete, -1 when it is malformed (gunicorn's parser then answers)."""
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        try:
            size = int(buf[pos:eol].split(b";", 1)[0].strip(), 16)
        except ValueError:
            return -1
        if size == 0:  # then trailer lines, ended by an empty one
            end = buf.find(HEADER_END, eol)
            return None if end < 0 else end + 4
        pos = eol + 2 + size + 2
        if pos > len(buf):
            return None


def request_ready(buf: bytes) -> bool:
    """Whether ``buf`` holds a whole request header and the body it announces, or more
    than the front waits for (gunicorn's parser then decides)."""
    end = buf.find(HEADER_END)
    if end < 0:
        return len(buf) >= MAX_HEAD
    head, start = buf[:end + 2], end + 4
    if _EXPECT.search(head):
        return True  # the client waits for "100 Continue", which gunicorn sends
    if _CHUNKED.search(head):
        return len(buf) - start > MAX_BODY or _chunked_end(buf, start) is not None
    length = _CONTENT_LENGTH.search(head)
    if length:
        wanted = int(length.group(1))
        return wanted > MAX_BODY or len(buf) - start >= wanted
    return True


def header_complete(buf: bytes) -> bool:
    return HEADER_END in buf


def _read_request(conn: GuardedConn) -> bool:
    """Read what the client has sent into ``conn.buf`` without blocking: True once a whole
    request (or more than the front waits for) is in it, False when the client closed.
    Raises what a non-blocking ``recv`` raises when more must come (want read or write)."""
    while True:
        data = conn.sock.recv(65536)
        if not data:
            return False
        conn.buf += data
        # Most requests come in one read: done without a second one.
        if request_ready(conn.buf) or len(conn.buf) >= MAX_HEAD + MAX_BODY:
            return True


def _to_parser(conn: GuardedConn) -> None:
    """What the front read goes to gunicorn's parser, which reads it before the socket."""
    conn.parser.unreader.unread(bytes(conn.buf))
    conn.buf = bytearray()
    conn.data_ready = True  # handle() must not wait for data again


class GuardedConn(gthread.TConn):
    """A connection the front reads before any thread sees it."""

    io_timeout = 30.0

    def __init__(self, cfg, sock, client, server) -> None:  # noqa: ANN001 - gunicorn's types
        super().__init__(cfg, sock, client, server)
        self.buf = bytearray()
        self.deadline = 0.0
        self.watching: int | None = None
        self.handshaking = False
        self.head_seen = False

    def init(self) -> None:
        # gunicorn's handle() has just made the socket blocking with no timeout; a thread
        # must not wait on a client forever.
        self.sock.settimeout(self.io_timeout)
        super().init()


class GuardedThreadWorker(gthread.ThreadWorker):
    """gthread with a non-blocking front for handshakes, request headers and small bodies."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "h2" in self.cfg.http_protocols:
            raise RuntimeError("ccmgr's worker serves HTTP/1.1 only (http_protocols = h1)")
        self.header_timeout = _seconds("CCMGR_HEADER_TIMEOUT", 5.0)
        self.body_timeout = _seconds("CCMGR_BODY_TIMEOUT", 10.0)
        self.front: dict[GuardedConn, None] = {}  # insertion order = longest waiting first
        self.linger = _seconds("CCMGR_KEEPALIVE_LINGER", 0.002, allow_zero=True)
        self._next_sweep = 0.0

    def init_process(self) -> None:
        _raise_open_files(self.cfg.worker_connections + 256)
        super().init_process()

    # --- entering the front: a new connection, or a kept-alive one that became readable
    def accept(self, listener) -> None:  # noqa: ANN001
        try:
            client, addr = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                self.log.warning("out of file descriptors; closing waiting connections")
                self._evict(max(1, len(self.front) // 10))
                return
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = GuardedConn(self.cfg, client, addr, listener.getsockname())  # non-blocking
        try:
            if self.cfg.is_ssl:
                conn.sock = gsock.ssl_context(self.cfg).wrap_socket(
                    conn.sock, server_side=True, do_handshake_on_connect=False,
                    suppress_ragged_eofs=self.cfg.suppress_ragged_eofs)
                conn.handshaking = True
        except (OSError, ValueError) as exc:
            self.log.debug("cannot set up TLS for %s: %s", addr, exc)
            self.nr_conns -= 1
            conn.close()
            return
        conn.initialized = True  # TConn.init would wrap the socket a second time
        conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        self._enter(conn)

    def on_client_socket_readable(self, conn, client) -> None:  # noqa: ANN001
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        conn.head_seen = False
        self._enter(conn)

    def _enter(self, conn: GuardedConn) -> None:
        conn.deadline = time.monotonic() + self.header_timeout
        if not self.alive:
            conn.deadline = min(conn.deadline, time.monotonic() + STOP_LINGER)
        self.front[conn] = None
        self._advance(conn)

    # --- reading without blocking until a whole request is buffered
    def _on_ready(self, conn: GuardedConn, _fileobj: object) -> None:
        self._advance(conn)

    def _advance(self, conn: GuardedConn) -> None:
        want = selectors.EVENT_READ
        try:
            if conn.handshaking:
                conn.sock.do_handshake()
                conn.handshaking = False
            if _read_request(conn):
                self._hand_over(conn)
            else:
                self._close(conn)  # the client went away
            return
        except ssl.SSLWantWriteError:
            want = selectors.EVENT_WRITE
        except (ssl.SSLWantReadError, BlockingIOError):
            pass
        except (OSError, ValueError) as exc:  # TLS errors, resets
            self.log.debug("closing %s: %s", conn.client, exc)
            self._close(conn)
            return
        if not conn.head_seen and header_complete(conn.buf):
            conn.head_seen = True
            conn.deadline = max(conn.deadline, time.monotonic() + self.body_timeout)
        self._watch(conn, want)

    def _watch(self, conn: GuardedConn, events: int) -> None:
        if conn.watching == events:
            return
        callback = partial(self._on_ready, conn)
        if conn.watching is None:
            self.poller.register(conn.sock, events, callback)
        else:
            self.poller.modify(conn.sock, events, callback)
        conn.watching = events

    def _unwatch(self, conn: GuardedConn) -> None:
        self.front.pop(conn, None)
        if conn.watching is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(conn.sock)
            conn.watching = None

    def _hand_over(self, conn: GuardedConn) -> None:
        self._unwatch(conn)
        _to_parser(conn)
        self.enqueue_req(conn)

    def _close(self, conn: GuardedConn) -> None:
        self._unwatch(conn)
        self.nr_conns -= 1
        conn.close()

    def _evict(self, count: int) -> None:
        for conn in list(self.front)[:count]:
            self._close(conn)

    # --- a busy kept-alive connection stays with its thread (the module's docstring)
    def handle(self, conn):  # noqa: ANN001, ANN201 - gunicorn's types
        result = super().handle(conn)
        for _ in range(MAX_IN_A_ROW):
            if result is not True or not self._may_linger(conn) or not self._next_ready(conn):
                return result
            if conn.buf:  # a partial request: the front reads the rest under its deadlines
                return _TO_FRONT
            result = super().handle(conn)
        return result

    def _may_linger(self, conn: GuardedConn) -> bool:
        # Only while no request waits for a thread: a lingering thread must not delay one.
        # Bytes gunicorn read ahead are its own case (finish_request queues the conn).
        return (self.linger > 0 and self.alive and not self.tpool._work_queue.qsize()
                and not conn.parser.unreader.buf.getvalue())

    def _next_ready(self, conn: GuardedConn) -> bool:
        """Wait up to ``linger`` for the client's next bytes and read what is there without
        blocking: a whole request goes to the parser (True, empty ``conn.buf``), part of one
        stays in ``conn.buf`` (True). False when nothing came (the loop waits instead) or
        the connection ended; then ``conn.buf`` is empty."""
        sock = conn.sock
        pending = getattr(sock, "pending", None)  # TLS: bytes decrypted already
        if not (pending and pending()):
            poll = select.poll()  # not select(): descriptors go past 1024
            poll.register(sock, select.POLLIN)
            try:
                if not poll.poll(self.linger * 1000):
                    return False
            except (OSError, ValueError):
                return False
        sock.setblocking(False)
        try:
            if _read_request(conn):
                _to_parser(conn)
                return True
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            return True
        except (OSError, ValueError):
            pass
        conn.buf = bytearray()  # closed: the loop sees the EOF (or error) and closes too
        return False

    def finish_request(self, conn, fs) -> None:  # noqa: ANN001 - gunicorn's types
        if not fs.cancelled() and fs.exception() is None and fs.result() is _TO_FRONT:
            conn.head_seen = False
            self._enter(conn)
            return
        super().finish_request(conn, fs)

    # --- deadlines: gunicorn's loop calls these after every round of events
    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY
        if not self.alive:
            for conn in self.front:
                conn.deadline = min(conn.deadline, now + STOP_LINGER)
        for conn in [c for c in self.front if c.deadline <= now]:
            self._close(conn)
        # Full: make room for new clients at the expense of those waiting longest.
        over = self.nr_conns - (self.worker_connections - self.cfg.threads)
        if over > 0:
            self._evict(over)

    def murder_keepalived(self, force: bool = False) -> None:
        super().murder_keepalived(force)
        if force:
            self._evict(len(self.front))


def _raise_open_files(wanted: int) -> None:
    """Lift the soft open-files limit towards ``wanted`` (never above the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
