"""Fetch processes: the controllers' HTTP (TLS, requests, reading the replies) in child
processes of the worker, so that a refresh of hundreds of controllers uses more than one
core (issue 17).

The worker keeps everything that decides what is fetched: the cache, single flight,
identities, logins and sessions, the metrics. A fetch process only carries out one POST
at a time per thread, with ``cmon.transport.post`` (the same code, so the same errors), and
sends back the reply (status, headers, cookies, body) or the error's type and message. A
controller always goes to the same process, so its keep-alive connections are reused.

Wire: frames over a socketpair, private to the two processes (a login's password travels
over it, never through arguments, files or the environment): two lengths, a msgpack head
and a body of raw bytes (a reply's body, sent and received without being copied into or
out of msgpack: at 500 controllers that is ~110 MiB a refresh).
A fetch process ends when its socket closes, so it never outlives its worker; one that
ends early fails the calls it had and is started again by the next call.

Run as ``python -m ccmgr.cmon.offload FD PROCESSES`` by ``Offload`` only.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
from requests.structures import CaseInsensitiveDict

from ccmgr.cmon import errors, transport
from ccmgr.http import READING_AT_ONCE, HttpPool

log = logging.getLogger("ccmgr.offload")

_HEADER = struct.Struct(">II")  # the head's and the body's lengths
MAX_FRAME = 256 * 1024 * 1024  # a reply bigger than this is refused, not read
THREADS = 512          # POSTs at once per process (threads are made as needed)
FORGET = 0  # a frame [FORGET, base] closes a controller's pools; calls count from 1
REPLY_MARGIN = 2.0     # seconds past a call's deadline before the worker stops waiting
# The error types a fetch process may report; anything else is reported as BadReply.
_ERRORS = {cls.__name__: cls for cls in (errors.ConnectFailed, errors.Timeout,
                                         errors.TLSFailed, errors.BadReply)}


def _send(sock: socket.socket, lock: threading.Lock, head: Any, body: bytes = b"") -> None:
    encoded = msgspec.msgpack.encode(head)
    parts = [_HEADER.pack(len(encoded), len(body)), encoded, body]
    with lock:  # one gathering write: the body is never joined to the rest (a copy)
        sent = sock.sendmsg(parts)
        for part in parts:  # what a full socket buffer left over
            if sent >= len(part):
                sent -= len(part)
                continue
            sock.sendall(memoryview(part)[sent:])
            sent = 0


def _receive(sock: socket.socket) -> tuple[Any, bytes] | None:
    """The next frame's head and body, or None at the end of the stream."""
    header = _read_exactly(sock, _HEADER.size)
    if header is None:
        return None
    head_size, body_size = _HEADER.unpack(header)
    if head_size + body_size > MAX_FRAME:
        raise ValueError(f"frame of {head_size + body_size} bytes")
    head = _read_exactly(sock, head_size)
    body = _read_exactly(sock, body_size)
    if head is None or body is None:
        return None
    return msgspec.msgpack.decode(head), body


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    """``size`` bytes (None if the stream ends first), read straight into one bytes
    object: MSG_WAITALL lets the kernel fill it, the interpreter lock released."""
    if size == 0:
        return b""
    data = sock.recv(size, socket.MSG_WAITALL)
    if len(data) == size:
        return data
    chunks = [data]  # a signal cut the wait short
    missing = size - len(data)
    while data and missing:
        data = sock.recv(missing, socket.MSG_WAITALL)
        chunks.append(data)
        missing -= len(data)
    return b"".join(chunks) if not missing else None


# -- the worker's side ------------------------------------------------------------------------
class _Call:
    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: transport.Reply | errors.CmonError | None = None


class _Process:
    """One fetch process and the calls it has not answered yet."""

    def __init__(self, index: int, size: int) -> None:
        ours, theirs = socket.socketpair()
        self.index = index
        self.sock = ours
        self.lock = threading.Lock()
        self.calls: dict[int, _Call] = {}
        self.calls_lock = threading.Lock()
        self.alive = True
        env = dict(os.environ)
        # The child imports this same ccmgr, wherever it was imported from here.
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.child = subprocess.Popen(  # our own interpreter and module
            [sys.executable, "-m", "ccmgr.cmon.offload", str(theirs.fileno()), str(size)],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env)
        theirs.close()
        self.reader = threading.Thread(target=self._read, name=f"ccmgr-offload-{index}",
                                       daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            while (frame := _receive(self.sock)) is not None:
                (ident, ok, *rest), body = frame
                with self.calls_lock:
                    call = self.calls.pop(ident, None)
                if call is None:  # its caller gave up waiting
                    continue
                if ok:
                    status, headers, cookies = rest
                    call.reply = transport.Reply(status, CaseInsensitiveDict(headers),
                                                 cookies, body)
                else:
                    kind, message = rest
                    call.reply = _ERRORS.get(kind, errors.BadReply)(message)
                call.done.set()
        except (OSError, ValueError, msgspec.DecodeError) as exc:
            log.warning("fetch process %d: broken stream: %s", self.index, exc)
        finally:
            self._end()

    def _end(self) -> None:
        self.alive = False
        with self.calls_lock:
            calls, self.calls = list(self.calls.values()), {}
        for call in calls:
            call.reply = errors.ConnectFailed("the fetch process ended before the reply")
            call.done.set()
        self.sock.close()

    def post(self, ident: int, request: transport.Request) -> transport.Reply:
        call = _Call()
        with self.calls_lock:
            self.calls[ident] = call
        try:
            _send(self.sock, self.lock, [ident, _fields(request)])
        except OSError:
            self._end()
        wait = (request.timeout + transport.CONNECT_TIMEOUT if request.deadline is None
                else request.deadline - time.monotonic()) + REPLY_MARGIN
        if not call.done.wait(max(0.0, wait)):
            with self.calls_lock:
                self.calls.pop(ident, None)
            raise errors.Timeout(f"no reply from {request.base} within "
                                 f"{request.timeout:g}s (fetch process {self.index} busy)")
        if isinstance(call.reply, errors.CmonError):
            raise call.reply
        assert call.reply is not None
        return call.reply

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        try:
            self.child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()


def _fields(request: transport.Request) -> list:
    return [request.base, request.ca_file, request.module, request.data, request.sid,
            request.deadline, request.timeout]


class Offload:
    """``processes`` fetch processes, started by ``start`` or on first use (never at
    import: gunicorn forks its workers after importing); ``post`` is
    ``cmon.transport.post`` carried out in one of them."""

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError("at least one fetch process")
        self.size = processes
        self._processes: list[_Process | None] = [None] * processes
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = False

    def _process(self, base: str) -> _Process:
        return self._process_at(zlib.crc32(base.encode()) % self.size)  # one per controller

    def _process_at(self, index: int) -> _Process:
        process = self._processes[index]
        if process is not None and process.alive:
            return process
        with self._lock:
            if self._closed:
                raise errors.ConnectFailed("shutting down")
            process = self._processes[index]
            if process is None or not process.alive:
                if process is not None:
                    log.warning("fetch process %d ended (exit %s); starting it again",
                                index, process.child.poll())
                    process.close()
                process = _Process(index, self.size)
                self._processes[index] = process
        return process

    def start(self) -> None:
        """Start every process now (the worker's start-up: their imports then overlap
        the worker's own, instead of delaying its first fetch by ~0.2 s)."""
        for index in range(self.size):
            self._process_at(index)

    def post(self, request: transport.Request) -> transport.Reply:
        return self._process(request.base).post(next(self._ids), request)

    def forget(self, base: str) -> None:
        """Close a removed or changed controller's connections in its fetch process."""
        process = self._processes[zlib.crc32(base.encode()) % self.size]
        if process is not None and process.alive:
            with contextlib.suppress(OSError):
                _send(process.sock, process.lock, [FORGET, base])

    def pids(self) -> list[int]:
        return [p.child.pid for p in self._processes if p is not None and p.alive]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            processes, self._processes = self._processes, [None] * self.size
        for process in processes:
            if process is not None:
                process.close()


# -- the fetch process ------------------------------------------------------------------------
def _serve(sock: socket.socket, lock: threading.Lock, http: HttpPool, ident: int,
           fields: list) -> None:
    def deliver(reply: transport.Reply) -> None:  # within the reply gate (transport.post)
        _reply(sock, lock, [ident, True, reply.status_code, list(reply.headers.items()),
                            reply.set_cookies], reply.body)

    try:
        transport.post(http, transport.Request(*fields), deliver=deliver)
    except errors.CmonError as exc:
        _reply(sock, lock, [ident, False, type(exc).__name__, exc.message])
    except Exception as exc:  # the worker gets an error, never silence
        _reply(sock, lock, [ident, False, "BadReply",
                            f"{fields[0]}: fetch failed: {type(exc).__name__}"])


def _reply(sock: socket.socket, lock: threading.Lock, head: list, body: bytes = b"") -> None:
    try:
        _send(sock, lock, head, body)
    except OSError:
        os._exit(0)  # the worker is gone


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the worker's to handle
    sock = socket.socket(fileno=int(argv[0]))
    lock = threading.Lock()
    # The worker's gate (128 replies) shared between its fetch processes.
    http = HttpPool(reading_at_once=max(16, READING_AT_ONCE // int(argv[1])))
    pool = ThreadPoolExecutor(THREADS, thread_name_prefix="ccmgr-offload")
    try:
        while (frame := _receive(sock)) is not None:
            (ident, fields), _ = frame
            if ident == FORGET:
                http.forget(fields)
            else:
                pool.submit(_serve, sock, lock, http, ident, fields)
    except (OSError, ValueError, msgspec.DecodeError):
        pass
    os._exit(0)  # the worker closed its end: in-flight calls have nobody to answer


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
