"""Logged-in traffic through the balancers' virtual address, for the failover tests
(tests/lab/test_balancer_failover.py) and bench/balancer.py.

One client logs in once through the virtual address, then sends GETs of
/proxy/auth/check with its session (and the SVR cookie HAProxy gave it) at a fixed rate
in a thread. Every request is recorded: the first attempt ("raw") and, after a connection
error (a reply broken off by a reset included) or a timeout without any reply (the GET is
idempotent: a browser or client library would retry it), one retry RETRY_DELAY later.
Bounded: at most ``max_requests`` and ``max_seconds``.
A second thread probes the address on its own (a fresh HTTPS GET /health every
PROBE_INTERVAL, short timeouts, no retry): the gap, how long the address did not answer,
is measured there, so the client's retry pause does not stretch it. Only the lab's
addresses are contacted.
A third thread notes which MAC the host's neighbour entry for the address
names, on every change (the failures' timeline).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

PATH = "/proxy/auth/check"  # needs the session; cheap on the nodes
# Seconds between a connection error and the one retry: longer than the longest gap, a
# power cut of the holder (3 missed adverts + skew, ~3.5 s; its first failure may come
# almost at once), so one retry covers every failover.
RETRY_DELAY = 4.0
TIMEOUT = (2.0, 5.0)  # connect, read
PROBE_INTERVAL = 0.05
PROBE_TIMEOUT = (0.5, 1.0)
NEIGHBOUR_INTERVAL = 0.05


@dataclass
class Sample:
    sent: float  # monotonic time the first attempt started
    done: float  # monotonic time the last attempt ended
    raw_ok: bool  # the first attempt answered as expected
    ok: bool  # the first attempt or the one retry answered as expected
    node: str = ""  # X-Ccmgr-Node of the answer
    error: str = ""  # why the first attempt failed, if it did
    retry_error: str = ""  # why the retry failed, if there was one and it did


@dataclass
class Report:
    samples: list[Sample]
    sticky: str  # the node the login reached
    probes: list[tuple[float, bool]] = field(default_factory=list)  # (answered at, ok)
    # (seen at, MAC) each time the host's neighbour entry for the address changed
    neighbours: list[tuple[float, str]] = field(default_factory=list)

    @property
    def raw_failures(self) -> int:
        return sum(not s.raw_ok for s in self.samples)

    @property
    def failures(self) -> int:
        return sum(not s.ok for s in self.samples)

    @property
    def nodes(self) -> set[str]:
        return {s.node for s in self.samples if s.ok}

    def silences(self, after: float = 0.0) -> list[tuple[float, float]]:
        """(start, seconds) between every two consecutive good probe answers (by the time
        they arrived) from ``after`` on."""
        times = [t for t, ok in self.probes if ok and t >= after]
        return [(a, b - a) for a, b in itertools.pairwise(times)]

    def gap(self, after: float = 0.0) -> float:
        """The longest time without a good probe answer from ``after`` on: how long the
        address was silent."""
        return max((seconds for _, seconds in self.silences(after)), default=0.0)

    def line(self, after: float = 0.0) -> str:
        errors = sorted({s.error for s in self.samples if s.error})
        return (f"{len(self.samples)} requests, gap {self.gap(after):.2f} s, raw failures "
                f"{self.raw_failures}, failures with one retry {self.failures}, nodes "
                f"{sorted(self.nodes)} (login on {self.sticky}); errors: {errors or 'none'}"
                f"{self.timeline(after)}")

    def timeline(self, after: float) -> str:
        """The failed requests and the neighbour changes, in seconds from ``after``: what
        a failure coincided with (empty when nothing failed)."""
        failed = [s for s in self.samples if not s.raw_ok]
        if not failed:
            return ""
        events = [(s.sent - after, f"failed {s.error}" + (
            f", retry failed {s.retry_error}" if not s.ok else ", retry ok")) for s in failed]
        events += [(t - after, f"address at {mac}") for t, mac in self.neighbours]
        events += [(a - after, f"silent {seconds:.2f} s") for a, seconds in self.silences()
                   if seconds > 0.5]
        return "; timeline: " + ", ".join(f"{t:+.2f} {what}" for t, what in sorted(events))


@dataclass
class Traffic:
    """~``rate`` logged-in requests per second through ``address`` in a thread."""

    address: str
    ca_file: Path
    password: str
    rate: float = 20.0
    max_seconds: float = 90.0
    max_requests: int = 1800
    samples: list[Sample] = field(default_factory=list)
    sticky: str = ""
    probes: list[tuple[float, bool]] = field(default_factory=list)
    neighbours: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = str(self.ca_file)

    def login(self) -> None:
        reply = self.session.post(f"https://{self.address}/proxy/auth/login", timeout=30,
                                  data=json.dumps({"username": "admin",
                                                   "password": self.password}))
        assert reply.status_code == 200, reply.text
        assert self.session.cookies.get("SVR"), "HAProxy set no SVR cookie"
        self.sticky = reply.headers["X-Ccmgr-Node"]

    def _attempt(self) -> tuple[bool, str, str, bool]:
        """(answered as expected, node, error, connection error)"""
        try:
            reply = self.session.get(f"https://{self.address}{PATH}", timeout=TIMEOUT)
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            # ChunkedEncodingError: the connection broke mid-reply (reset when the virtual
            # address moved under a kept-alive connection): a transport failure like the
            # others, and the GET is idempotent.
            return False, "", type(exc).__name__, True
        except requests.RequestException as exc:
            return False, "", type(exc).__name__, False
        node = reply.headers.get("X-Ccmgr-Node", "")
        try:
            logged_in = reply.json().get("request_status") == "Ok"
        except ValueError:
            logged_in = False
        if reply.status_code != 200 or not logged_in:
            return False, node, f"HTTP {reply.status_code}", False
        if node != self.sticky:
            return False, node, f"answered by {node}, not {self.sticky}", False
        return True, node, "", False

    def _run(self) -> None:
        started = time.monotonic()
        interval = 1.0 / self.rate
        for i in range(self.max_requests):
            if self._stop.is_set() or time.monotonic() - started > self.max_seconds:
                break
            sent = time.monotonic()
            ok, node, error, connection_error = self._attempt()
            raw_ok, retry_error = ok, ""
            if connection_error:
                time.sleep(RETRY_DELAY)
                ok, node, retry_error, _ = self._attempt()
            self.samples.append(Sample(sent, time.monotonic(), raw_ok, ok, node, error,
                                       retry_error))
            # Keep the rate: sleep until the next slot (none when behind).
            time.sleep(max(0.0, started + (i + 1) * interval - time.monotonic()))

    def _probe(self) -> None:
        started = time.monotonic()
        url = f"https://{self.address}/health"
        for _ in range(int(self.max_seconds / PROBE_INTERVAL)):
            if self._stop.is_set() or time.monotonic() - started > self.max_seconds:
                break
            try:  # a fresh connection each time: no keep-alive to a balancer that is gone
                ok = requests.get(url, verify=str(self.ca_file), timeout=PROBE_TIMEOUT,
                                  headers={"Connection": "close"}).status_code == 200
            except requests.RequestException:
                ok = False
            self.probes.append((time.monotonic(), ok))
            time.sleep(PROBE_INTERVAL)

    def _watch_neighbour(self) -> None:
        """Which MAC the host sends the address's packets to, on every change: a failure
        that coincides with a change is a connection the address moved under."""
        started = time.monotonic()
        last = None
        for _ in range(int(self.max_seconds / NEIGHBOUR_INTERVAL)):
            if self._stop.is_set() or time.monotonic() - started > self.max_seconds:
                break
            try:
                shown = subprocess.run(["ip", "-j", "neigh", "show", "to", self.address],
                                       capture_output=True, text=True, timeout=2).stdout
                entries = json.loads(shown or "[]")
            except (OSError, subprocess.TimeoutExpired, ValueError):
                entries = []
            mac = entries[0].get("lladdr", "none") if entries else "none"
            if mac != last:
                self.neighbours.append((time.monotonic(), mac))
                last = mac
            time.sleep(NEIGHBOUR_INTERVAL)

    def __enter__(self) -> Traffic:
        if not self.sticky:
            self.login()
        self._threads = [threading.Thread(target=self._run, daemon=True),
                         threading.Thread(target=self._probe, daemon=True),
                         threading.Thread(target=self._watch_neighbour, daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.max_seconds + 30)

    def report(self) -> Report:
        return Report(list(self.samples), self.sticky, list(self.probes),
                      list(self.neighbours))

    def wait_answering(self, after: float, timeout: float) -> float | None:
        """Seconds from ``after`` to the first good answer sent after it, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            good = [s for s in list(self.samples) if s.ok and s.sent > after]
            if good:
                return good[0].done - after
            time.sleep(0.1)
        return None
