"""The cmon RPC client's transport: pooled keep-alive connections, whole-body reads, and
replies that break off mid-body (a controller killed while answering)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from ccmgr.cmon.client import CmonClient, Credentials
from ccmgr.cmon.errors import BadReply, Timeout
from ccmgr.cmon.offload import Offload
from ccmgr.http import HttpPool
from cmonsim.tlscert import server_context

CLUSTERS = {"operation": "getAllClusterInfo", "with_hosts": True}


@pytest.fixture
def http() -> Iterator[HttpPool]:
    pool = HttpPool()
    yield pool
    pool.close()


@pytest.fixture(params=["in-the-worker", "in-a-fetch-process"])
def any_http(request) -> Iterator[HttpPool]:
    """The POSTs carried out in this process, or in a fetch process (cmon.offload)."""
    pool = HttpPool()
    if request.param == "in-a-fetch-process":
        pool.offload = Offload(1)
    yield pool
    if pool.offload is not None:
        pool.offload.close()
    pool.close()


def test_calls_reuse_one_connection_and_read_whole_replies(cmon_estate, http):
    estate = cmon_estate(controllers=1, clusters=12, hosts=4, seed=3)
    ctl = estate[0]
    client = CmonClient(http, ctl.url, Credentials(ctl.username, ctl.password), timeout=10)
    replies = [client.call("clusters", CLUSTERS) for _ in range(5)]
    assert [len(r["clusters"]) for r in replies] == [12] * 5
    assert all(len(c["hosts"]) >= 4 for c in replies[-1]["clusters"])
    manager = http.session(client.base).get_adapter(client.base).poolmanager
    pools = [manager.pools[key] for key in manager.pools.keys()]  # noqa: SIM118 - no iter
    # The login and five calls went over one TLS connection: every body was read to its
    # end, so each connection went back to the pool instead of being dropped.
    assert [p.num_connections for p in pools] == [1]
    assert ctl.count("/v2/clusters", "getAllClusterInfo") == 5


class _CuttingServer:
    """A TLS listener on loopback that answers every request with ``reply`` bytes, then
    behaves as ``after`` says: "close" (the controller died) or "stall" (it hangs)."""

    def __init__(self, reply: bytes, after: str) -> None:
        self.reply, self.after = reply, after
        self.context = server_context(["127.0.0.1"])
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            with contextlib.suppress(OSError), \
                    self.context.wrap_socket(raw, server_side=True) as conn:
                conn.settimeout(5)
                self._answer(conn)

    def _answer(self, conn: ssl.SSLSocket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(65536)
        head, _, body = request.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        while len(body) < length:
            body += conn.recv(65536)
        conn.sendall(self.reply)
        if self.after == "stall":
            self.stop.wait(5)

    def close(self) -> None:
        self.stop.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.sock.close()
        self.thread.join(timeout=10)


@pytest.fixture
def cutting_server() -> Iterator[Callable[[bytes, str], _CuttingServer]]:
    servers: list[_CuttingServer] = []

    def start(reply: bytes, after: str) -> _CuttingServer:
        servers.append(_CuttingServer(reply, after))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nServer: cmon/2.3.1\r\n"
        b"Set-Cookie: cmon-sid=abc; Path=/\r\nContent-Length: 100000\r\n\r\n")


def _client(http: HttpPool, port: int, timeout: float) -> CmonClient:
    client = CmonClient(http, f"127.0.0.1:{port}", Credentials("admin", "x"), timeout=timeout)
    client.sid = "abc"  # skip the login: the call itself is what is cut
    return client


def test_a_reply_cut_off_mid_body_is_a_bad_reply(cutting_server, any_http):
    server = cutting_server(HEAD + b'{"request_status": "Ok", "clusters": [', "close")
    client = _client(any_http, server.port, timeout=5)
    with pytest.raises(BadReply) as caught:
        client.call("clusters", CLUSTERS)
    assert f"127.0.0.1:{server.port}/v2/clusters" in caught.value.message
    assert "reply broken off" in caught.value.message


def test_a_reply_that_stalls_mid_body_times_out(cutting_server, any_http):
    server = cutting_server(HEAD + b'{"request_status": "Ok", "clusters": [', "stall")
    client = _client(any_http, server.port, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        client.call("clusters", CLUSTERS)
    assert time.monotonic() - started < 3
    assert "timeout" in caught.value.message


def test_replies_are_read_a_bounded_number_at_a_time_and_a_wait_ends_at_the_deadline(
        cmon_estate):
    """Wide fetch pools are fine while few replies are read and decoded at once (memory):
    a call waits for its turn only until its own deadline, then times out clearly."""
    estate = cmon_estate(controllers=1, clusters=2, hosts=1, seed=4)
    ctl = estate[0]
    http = HttpPool(reading_at_once=1)
    try:
        client = CmonClient(http, ctl.url, Credentials(ctl.username, ctl.password), timeout=10)
        assert len(client.call("clusters", CLUSTERS)["clusters"]) == 2  # a turn was free
        # The only turn, held by someone else:
        with http.reading(None), pytest.raises(Timeout, match="busy reading other replies"):
            client.call("clusters", CLUSTERS, time.monotonic() + 0.5)
        assert len(client.call("clusters", CLUSTERS)["clusters"]) == 2  # the turn is back
        # Without a deadline, a call waits for its turn as long as it takes.
        release = threading.Event()

        def hold() -> None:
            with http.reading(None):
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        threading.Timer(0.3, release.set).start()
        assert len(client.call("clusters", CLUSTERS)["clusters"]) == 2
        holder.join(10)
        assert ctl.count("/v2/clusters", "getAllClusterInfo") == 4  # the controller answered
    finally:
        http.close()
