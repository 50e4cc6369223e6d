"""The transport: one asyncio event loop serving every simulated controller on its
own HTTPS port, plus the plain-HTTP admin endpoint.

Why asyncio: injected latency and hangs are `await`s, so a slow controller never
holds up another, and one thread serves hundreds of idle keep-alive connections.
Replies are mostly cache hits (see rpc.py), so the loop spends its time in TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import ssl
import struct
import threading
from collections.abc import Coroutine, Iterator
from typing import Any

from . import rpc
from .controller import ControllerState
from .estate import generate_controller
from .faults import Faults, parse_faults
from .http11 import BadRequest, Request, read_request, response_bytes
from .options import SimOptions
from .tlscert import server_context

# A fatal TLS alert record: handshake_failure (40). What a client sees when the
# controller's TLS setup is broken.
TLS_HANDSHAKE_FAILURE_ALERT = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])

HTML_500 = (b"<html><head><title>500 Internal Server Error</title></head>"
            b"<body><h1>Internal Server Error</h1></body></html>")

READ_ERRORS = (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ssl.SSLError,
               ValueError, OSError)


class SimServer:
    def __init__(self, options: SimOptions, states: list[ControllerState],
                 ssl_ctx: ssl.SSLContext) -> None:
        self.options = options
        self.states = states
        self.ssl_ctx = ssl_ctx
        self._listeners: dict[int, tuple[str, asyncio.Server]] = {}
        self._conns: dict[int, set[asyncio.StreamWriter]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._admin: asyncio.Server | None = None
        self.admin_port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_lag_max = 0.0  # worst event-loop delay seen (seconds), see _watch_lag
        # RPCs being answered now and the most at once, by operation, estate-wide (how wide
        # a client fans out or paces, without timing it). One event loop: no lock needed.
        self.in_flight: dict[str, int] = {}
        self.in_flight_max: dict[str, int] = {}
        self._lag_task: asyncio.Task | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        from .admin import AdminApi  # local: admin imports this module for type hints

        self.loop = asyncio.get_running_loop()
        base = self.options.base_port
        for ctl in self.states:
            ctl.port = base + ctl.index if base else 0
            await self.reconcile(ctl)
        api = AdminApi(self)
        self._admin = await asyncio.start_server(
            lambda r, w: self._serve(r, w, lambda req: api.handle(req), None),
            self.options.admin_bind, self.options.admin_port)
        self.admin_port = self._admin.sockets[0].getsockname()[1]
        self._lag_task = asyncio.create_task(self._watch_lag())

    async def _watch_lag(self, tick: float = 0.01) -> None:
        """Record how late the loop wakes up: if it stays small under load, no
        controller's reply waited on another's work (the simulator is not the
        bottleneck). Runs until stop() cancels it."""
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(tick)
            self.loop_lag_max = max(self.loop_lag_max, loop.time() - before - tick)

    async def stop(self) -> None:
        if self._lag_task is not None:
            self._lag_task.cancel()
        servers = [srv for _, srv in self._listeners.values()]
        if self._admin is not None:
            servers.append(self._admin)
        for srv in servers:
            srv.close()
        self._listeners.clear()
        for writers in self._conns.values():
            for w in list(writers):
                w.transport.abort()
        tasks = [t for t in self._tasks if not t.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    # -- listeners ---------------------------------------------------------------------------
    async def reconcile(self, ctl: ControllerState) -> None:
        """Open, close or swap the controller's listener to match its fault mode."""
        mode = ctl.faults.mode
        want = None if mode == "refused" else ("alert" if mode == "tls_fail" else "tls")
        current = self._listeners.get(ctl.index)
        if current is not None and current[0] == want:
            return
        if current is not None:
            current[1].close()
            del self._listeners[ctl.index]
            # A stopped or re-configured controller drops its open connections too.
            for w in list(self._conns.get(ctl.index, ())):
                w.transport.abort()
        if want is None:
            return
        if want == "tls":
            srv = await asyncio.start_server(
                lambda r, w: self._serve(r, w, None, ctl), self.options.bind, ctl.port,
                ssl=self.ssl_ctx, ssl_handshake_timeout=10, backlog=1024, reuse_address=True)
        else:
            srv = await asyncio.start_server(
                lambda r, w: self._tls_alert(r, w), self.options.bind, ctl.port,
                backlog=1024, reuse_address=True)
        ctl.port = srv.sockets[0].getsockname()[1]
        self._listeners[ctl.index] = (want, srv)

    def listening(self, ctl: ControllerState) -> bool:
        return ctl.index in self._listeners

    async def set_faults(self, ctl: ControllerState, changes: dict[str, Any] | None,
                         replace: bool = False) -> Faults:
        base = Faults() if replace else ctl.faults
        ctl.faults = base.updated(dict(changes or {}))
        await self.reconcile(ctl)
        return ctl.faults

    # -- connections ---------------------------------------------------------------------------
    def _track(self, key: int, writer: asyncio.StreamWriter) -> asyncio.Task | None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._conns.setdefault(key, set()).add(writer)
        return task

    def _untrack(self, key: int, writer: asyncio.StreamWriter, task: asyncio.Task | None) -> None:
        self._conns.get(key, set()).discard(writer)
        if task is not None:
            self._tasks.discard(task)
        with contextlib.suppress(Exception):
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     handler: Any, ctl: ControllerState | None) -> None:
        """Keep-alive loop shared by controller ports (ctl set) and the admin port."""
        key = ctl.index if ctl is not None else -1
        task = self._track(key, writer)
        try:
            for _ in range(1_000_000):  # bounded; a client would reconnect after this
                try:
                    req = await asyncio.wait_for(read_request(reader, writer),
                                                 self.options.keepalive_timeout)
                except BadRequest as exc:
                    await self._bad_request(writer, ctl, str(exc))
                    return
                except READ_ERRORS:
                    return
                if req is None:
                    return
                if ctl is not None:
                    keep = await self._rpc(ctl, req, reader, writer)
                else:
                    status, headers, body = await handler(req)
                    writer.write(response_bytes(status, headers, body, req.keep_alive))
                    await writer.drain()
                    keep = req.keep_alive
                if not keep:
                    return
        except (ConnectionError, ssl.SSLError, OSError):
            return
        except asyncio.CancelledError:
            return
        finally:
            self._untrack(key, writer, task)

    async def _bad_request(self, writer: asyncio.StreamWriter, ctl: ControllerState | None,
                           message: str) -> None:
        if ctl is not None:
            status, headers, body = rpc.error_reply(ctl, "InvalidRequest",
                                                    f"Malformed HTTP request: {message}.", 400)
        else:
            status, headers, body = 400, [("Content-Type", "application/json")], b"{}"
        with contextlib.suppress(*READ_ERRORS):
            writer.write(response_bytes(status, headers, body, False))
            await writer.drain()

    async def _rpc(self, ctl: ControllerState, req: Request, reader: asyncio.StreamReader,
                   writer: asyncio.StreamWriter) -> bool:
        """Answer one request on a controller port; False closes the connection."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        module, path = rpc.route(ctl, req.target)
        body, operation = rpc.parse_body(req.body)
        ctl.count(path, operation)
        with self._answering(operation or path):
            faults = ctl.faults
            mode = faults.mode if faults.applies_to(module or "") else None
            if mode == "hang":
                await self._hang(reader, faults.hang_max)
                return False
            if module is None:
                status, headers, payload = rpc.error_reply(
                    ctl, "InvalidRequest", f"Invalid request path '{path}'.", 404, body)
            elif mode in ("http500", "try_again"):
                failure = ("UnknownError", "Internal error.", 500) if mode == "http500" else (
                    "TryAgain", "The controller is busy, try again later.", 200)
                status, headers, payload = rpc.error_reply(ctl, *failure, body=body)
            elif mode == "http500_html":
                status, headers, payload = 500, [("Server", f"cmon/{ctl.data.version}"),
                                                 ("Content-Type", "text/html")], HTML_500
            elif mode == "http500_empty":
                status, headers, payload = 500, rpc.base_headers(ctl), b""
            elif mode == "empty_json":
                status, headers, payload = 200, rpc.base_headers(ctl), b"{}"
            else:
                status, headers, payload = rpc.handle(ctl, module, path, body, operation,
                                                      req.all("cookie"),
                                                      rpc.strip_prefix(ctl, req.target))
                if mode == "bad_json":
                    payload = payload[: max(1, len(payload) // 2)]  # cut mid-document
            delay = faults.delay(ctl.rng) - (loop.time() - started)
            if delay > 0:
                await asyncio.sleep(delay)  # never blocks other controllers
            if mode == "reset":
                self._reset(writer)
                return False
            writer.write(response_bytes(status, headers, payload, req.keep_alive))
            await writer.drain()
            return req.keep_alive

    @contextlib.contextmanager
    def _answering(self, key: str) -> Iterator[None]:
        """Counts an RPC as in flight (``in_flight``, its high-water ``in_flight_max``)
        while its answer is made, delayed and written."""
        now = self.in_flight[key] = self.in_flight.get(key, 0) + 1
        self.in_flight_max[key] = max(now, self.in_flight_max.get(key, 0))
        try:
            yield
        finally:
            self.in_flight[key] -= 1

    async def _hang(self, reader: asyncio.StreamReader, limit: float) -> None:
        """Hold the request unanswered until the client gives up (or `limit`)."""
        with contextlib.suppress(*READ_ERRORS):
            async with asyncio.timeout(limit):
                while await reader.read(65536):
                    pass

    @staticmethod
    def _reset(writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                # Linger 0 turns close() into a TCP RST.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def _tls_alert(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        task = self._track(-2, writer)
        try:
            with contextlib.suppress(*READ_ERRORS):
                async with asyncio.timeout(5):
                    await reader.read(5)  # the start of the ClientHello
                writer.write(TLS_HANDSHAKE_FAILURE_ALERT)
                await writer.drain()
        except asyncio.CancelledError:
            pass
        finally:
            self._untrack(-2, writer, task)


def build_server(options: SimOptions, freeze_gc: bool = False) -> SimServer:
    """Generate the estate and prepare (not start) a server for it.

    freeze_gc: only for a process that exists to run this server (the CLI): frozen
    objects are never collected, so a test process starting many estates would leak.
    """
    spec = options.estate_spec()
    prefix = options.normalised_prefix()
    states = []
    for i in range(options.controllers):
        data = generate_controller(spec, i)
        faults = parse_faults({**options.default_faults, **options.faults.get(i, {})})
        ctl = ControllerState(data=data, faults=faults, prefix=prefix,
                              idle_ttl=options.idle_ttl)
        if options.warm:
            rpc.warm(ctl, rpc.PROXY_REQUESTS)
        states.append(ctl)
    names = {options.bind, options.url_host(), "127.0.0.1", "localhost", socket.gethostname()}
    names.discard("")
    names.discard("0.0.0.0")  # noqa: S104 - not a certificate name
    names.discard("::")
    ctx = server_context(sorted(names), options.cert_file, options.key_file)
    if freeze_gc:
        # The estate is hundreds of thousands of long-lived dicts; a full collection
        # over them stalls the event loop for ~0.5 s at 50x40x5. Freezing moves them
        # out of the collector's sight (they live as long as the process).
        gc.collect()
        gc.freeze()
    return SimServer(options, states, ctx)


class ThreadedServer:
    """Runs a SimServer on its own event loop in a daemon thread (for tests)."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="cmonsim", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.start())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.server.stop())
        self.loop.close()

    def start(self, timeout: float = 60.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("cmonsim did not start in time")
        if self._error is not None:
            raise RuntimeError(f"cmonsim failed to start: {self._error}") from self._error

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
