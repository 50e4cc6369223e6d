"""Idle and slow clients against the real daemon: they must not take its threads, and they
are closed after a short time (issue 18, defect 1). Timings here are correctness bounds;
the figures are in bench/idle_clients.py and docs/benchmarks.md."""

from __future__ import annotations

import json
import select
import socket
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from daemonkit import Daemon, start_daemon, stop_daemon

HEADER_TIMEOUT = 2  # seconds; the daemon default is 5
KEEPALIVE = 2       # seconds; the daemon default is 15
THREADS = 8         # fewer threads than idle clients, to make starvation certain


@pytest.fixture
def quick_daemon(basedir) -> Iterator[Daemon]:
    d = start_daemon(basedir, env={"CCMGR_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
                                   "CCMGR_KEEPALIVE": str(KEEPALIVE),
                                   "CCMGR_THREADS": str(THREADS)})
    try:
        yield d
    finally:
        stop_daemon(d)


def tls_context(daemon: Daemon) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=daemon.ca)


def open_tls(daemon: Daemon) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
    return tls_context(daemon).wrap_socket(raw, server_hostname="localhost")


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True once the server has closed ``sock`` (EOF or reset) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.2)
        if not ready:
            continue
        try:
            data = sock.recv(65536)
        except ssl.SSLWantReadError:
            continue
        except OSError:
            return True
        if not data:
            return True
    return False


def test_health_answers_while_idle_clients_hold_connections(quick_daemon):
    n_tcp, n_tls = 100, 4 * THREADS  # gthread alone stalled at THREADS idle TLS clients
    with ThreadPoolExecutor(max_workers=16) as pool:
        tls = list(pool.map(lambda _: open_tls(quick_daemon), range(n_tls)))
    tcp = [socket.create_connection(("127.0.0.1", quick_daemon.port), timeout=10)
           for _ in range(n_tcp)]
    try:
        for _ in range(5):
            reply = requests.get(f"{quick_daemon.url}/health", verify=quick_daemon.ca,
                                 timeout=HEADER_TIMEOUT)
            assert reply.status_code == 200
    finally:
        for sock in tls + tcp:
            sock.close()


@pytest.mark.parametrize("kind", ["tcp", "tls", "partial header"])
def test_connection_without_a_complete_request_is_closed(quick_daemon, kind):
    if kind == "tcp":
        sock = socket.create_connection(("127.0.0.1", quick_daemon.port), timeout=10)
    else:
        sock = open_tls(quick_daemon)
        if kind == "partial header":
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
    with sock:
        assert closed_within(sock, HEADER_TIMEOUT + 8)


def test_idle_keepalive_connection_is_closed(quick_daemon):
    with open_tls(quick_daemon) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(65536)
        assert reply.startswith(b"HTTP/1.1 200")
        assert b"connection: close" not in reply.lower()
        assert closed_within(sock, KEEPALIVE + 8)


def test_request_sent_in_pieces_within_the_deadline_is_served(quick_daemon):
    body = json.dumps({"username": "admin", "password": quick_daemon.admin_password()})
    head = (f"POST /proxy/auth/login HTTP/1.1\r\nHost: localhost\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    with open_tls(quick_daemon) as sock:
        for piece in (head[:20], head[20:], body[:5], body[5:]):
            sock.sendall(piece.encode())
            time.sleep(0.3)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    assert b'"request_status": "Ok"' in reply or b'"request_status":"Ok"' in reply


def read_replies(sock: ssl.SSLSocket, count: int) -> list[bytes]:
    """``count`` whole replies (header and Content-Length body) read from ``sock``."""
    data, replies = b"", []
    while len(replies) < count:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            head = data[:end].decode("latin-1").lower()
            length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
            if len(data) >= end + 4 + length:
                replies.append(data[:end + 4 + length])
                data = data[end + 4 + length:]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"closed after {len(replies)} replies"
        data += chunk
    return replies


def health_request(rid: str) -> bytes:
    return f"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: {rid}\r\n\r\n".encode()


def test_back_to_back_and_pipelined_requests_on_one_connection_are_answered_in_order(
        quick_daemon):
    """A thread that answered serves the connection's next request itself (connguard's
    linger): each reply must still be the answer to its own request, in order."""
    with open_tls(quick_daemon) as sock:
        for n in range(150):  # past MAX_IN_A_ROW (100): the thread gives it back and on
            sock.sendall(health_request(f"seq-{n}"))
            (reply,) = read_replies(sock, 1)
            assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
            assert f"x-request-id: seq-{n}\r\n".encode() in reply.lower()
        sock.sendall(health_request("pipe-a") + health_request("pipe-b"))
        first, second = read_replies(sock, 2)
        assert b"x-request-id: pipe-a\r\n" in first.lower()
        assert b"x-request-id: pipe-b\r\n" in second.lower()


def test_partial_request_after_a_reply_does_not_hold_a_thread(quick_daemon):
    """Clients that get a reply and then send only part of their next request (the
    thread that answered is waiting for it) must leave the threads free, and are closed
    after the header deadline like any other."""
    clients = [open_tls(quick_daemon) for _ in range(4 * THREADS)]
    try:
        for n, sock in enumerate(clients):
            sock.sendall(health_request(f"first-{n}"))
            read_replies(sock, 1)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: local")  # and nothing more
        for _ in range(5):
            reply = requests.get(f"{quick_daemon.url}/health", verify=quick_daemon.ca,
                                 timeout=HEADER_TIMEOUT)
            assert reply.status_code == 200
        assert all(closed_within(sock, HEADER_TIMEOUT + 8) for sock in clients)
    finally:
        for sock in clients:
            sock.close()
