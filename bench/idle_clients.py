"""Idle-client bench: does /health still answer while idle connections are held open?

    .venv/bin/python bench/idle_clients.py [--tcp 1000] [--tls 200] [--hold 60]

Starts a real ccmgr daemon on loopback, opens ``--tcp`` plain TCP connections to its TLS
port that send nothing and ``--tls`` connections that complete the TLS handshake and then
send nothing, holds them for ``--hold`` seconds, and meanwhile asks /health from another
client every ``--interval`` seconds on a fresh connection (timeout ``--probe-timeout``; a
probe that fails or times out counts as the timeout). A connection the server closes is
replaced at once by a new one of its kind (unless ``--no-reopen``), as an attacker would,
so the count is held for the whole time. Prints, as JSON: the connections opened and the
fewest held at any probe, the /health probes (count, failures, median, p99, max in ms),
and how many idle connections the server closed, with the median time they had lived.
Figures go to docs/benchmarks.md, "Robustness"; nothing is asserted.

All traffic goes to 127.0.0.1; every loop is bounded in count and time; the daemon and
every socket are closed at the end.
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from daemonkit import start_daemon, stop_daemon  # noqa: E402


def open_tcp(port: int, timeout: float) -> socket.socket | None:
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError:
        return None


def open_tls(port: int, context: ssl.SSLContext, timeout: float) -> socket.socket | None:
    raw = open_tcp(port, timeout)
    if raw is None:
        return None
    try:
        return context.wrap_socket(raw, server_hostname="localhost")  # handshake done here
    except OSError:
        raw.close()
        return None


class Holder:
    """Holds the idle connections; each one the server closes is noted (time since it
    was opened) and, with ``reopen``, replaced at once by a new one of the same kind, as
    an attacker would, so the count stays up for the whole hold."""

    def __init__(self, port: int, context: ssl.SSLContext, reopen: bool) -> None:
        self.port, self.context, self.reopen = port, context, reopen
        self.selector = selectors.DefaultSelector()
        self.opened: dict[socket.socket, tuple[float, str]] = {}
        self.closed_after: list[float] = []
        self.reopened = 0
        self.stop = threading.Event()

    def open(self, kind: str) -> bool:
        sock = (open_tls(self.port, self.context, 10) if kind == "tls"
                else open_tcp(self.port, 10))
        if sock is None:
            return False
        sock.setblocking(False)
        self.opened[sock] = (time.monotonic(), kind)
        self.selector.register(sock, selectors.EVENT_READ)
        return True

    def run(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.selector.select(0.2):
                sock = key.fileobj
                try:
                    data = sock.recv(4096)
                except (ssl.SSLWantReadError, BlockingIOError):
                    continue
                except OSError:
                    data = b""
                if data:
                    continue  # e.g. an error reply before the close: the EOF follows
                self.selector.unregister(sock)
                since, kind = self.opened.pop(sock)
                sock.close()
                self.closed_after.append(time.monotonic() - since)
                if self.reopen and not self.stop.is_set() and self.open(kind):
                    self.reopened += 1

    def count(self, kind: str) -> int:
        return sum(k == kind for _, k in list(self.opened.values()))

    def close(self) -> None:
        for sock in list(self.opened):
            sock.close()
        self.selector.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tcp", type=int, default=1000)
    parser.add_argument("--tls", type=int, default=200)
    parser.add_argument("--hold", type=float, default=60)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--probe-timeout", type=float, default=5)
    parser.add_argument("--no-reopen", action="store_true",
                        help="do not replace the connections the server closes")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ccmgr-idle-") as tmp:
        daemon = start_daemon(Path(tmp))
        holder = Holder(daemon.port, ssl.create_default_context(cafile=daemon.ca),
                        reopen=not args.no_reopen)
        thread = threading.Thread(target=holder.run, daemon=True)
        try:
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=50) as pool:
                list(pool.map(holder.open, ["tcp"] * args.tcp + ["tls"] * args.tls))
            opened = {"tcp": holder.count("tcp"), "tls": holder.count("tls")}
            opened_in = time.monotonic() - started
            thread.start()
            probes: list[float] = []
            failures = 0
            held_min = dict(opened)
            hold_until = time.monotonic() + args.hold
            while time.monotonic() < hold_until:
                t0 = time.perf_counter()
                try:
                    ok = requests.get(f"{daemon.url}/health", verify=daemon.ca,
                                      timeout=args.probe_timeout).status_code == 200
                except requests.RequestException:
                    ok = False
                elapsed = time.perf_counter() - t0
                if not ok:
                    failures += 1
                    elapsed = max(elapsed, args.probe_timeout)
                probes.append(elapsed * 1000)
                for kind in held_min:
                    held_min[kind] = min(held_min[kind], holder.count(kind))
                time.sleep(max(0.0, args.interval - elapsed))
            holder.stop.set()
            thread.join(timeout=5)
            closed = holder.closed_after
            print(json.dumps({
                "tcp_opened": opened["tcp"],
                "tls_opened": opened["tls"],
                "opened_in_s": round(opened_in, 2),
                "hold_s": args.hold,
                "reopen": not args.no_reopen,
                "held_at_least": held_min,
                "health_probes": len(probes),
                "health_failures": failures,
                "health_median_ms": round(statistics.median(probes), 1),
                "health_p99_ms": round(percentile(probes, 0.99), 1),
                "health_max_ms": round(max(probes), 1),
                "closed_by_server": len(closed),
                "closed_median_s": round(statistics.median(closed), 1) if closed else None,
                "reopened": holder.reopened,
            }, indent=2))
        finally:
            holder.stop.set()
            if thread.is_alive():
                thread.join(timeout=5)
            holder.close()
            stop_daemon(daemon)
    return 0


if __name__ == "__main__":
    sys.exit(main())
