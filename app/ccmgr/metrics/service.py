"""Service metrics: requests by route and status, their durations, logins, sessions,
and the aggregate reply memo's hits and misses (``RequestMetrics`` is the middleware)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator

import falcon
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ccmgr.collectors.memo import ReplyMemo

LOGIN_ROUTE = "/proxy/auth/login"
MAX_TRACKED_SESSIONS = 10_000  # a flood of cookies cannot grow memory without bound
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class SessionsSeen:
    """Active sessions, estimated: distinct session ids seen within the idle TTL.
    Sessions are stateless cookies, so no node knows the exact number."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def saw(self, sid: str, now: float) -> None:
        with self._lock:
            self._seen.pop(sid, None)
            self._seen[sid] = now  # insertion order = last seen order
            while len(self._seen) > MAX_TRACKED_SESSIONS:
                self._seen.pop(next(iter(self._seen)))

    def count(self, ttl_s: float, now: float) -> int:
        with self._lock:
            for sid in [s for s, t in self._seen.items() if t < now - ttl_s]:
                del self._seen[sid]
            return len(self._seen)


class RequestMetrics:
    """Falcon middleware: counts every request by route template (never the raw path:
    unknown paths would make unbounded label values) and status."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("ccmgr_http_requests", "HTTP requests by route and status",
                                ("route", "status"), registry=registry)
        self.duration = Histogram("ccmgr_http_request_duration_seconds",
                                  "Time to answer, by route", ("route",),
                                  buckets=REQUEST_BUCKETS, registry=registry)
        self.login_failures = Counter("ccmgr_login_failures",
                                      "Logins refused for wrong credentials", registry=registry)
        self.lockouts = Counter("ccmgr_login_lockouts",
                                "Logins refused because of too many failures",
                                registry=registry)
        self.sessions = SessionsSeen()

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.metrics_started = time.monotonic()

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        started = getattr(req.context, "metrics_started", None)
        if started is None:
            return
        route = req.uri_template or ("static" if resource is not None else "unmatched")
        status = str(resp.status)[:3] if not isinstance(resp.status, int) else str(resp.status)
        self.requests.labels(route, status).inc()
        self.duration.labels(route).observe(time.monotonic() - started)
        if route == LOGIN_ROUTE:
            if status == "429":
                self.lockouts.inc()
            elif status in ("401", "403"):
                self.login_failures.inc()
        session = getattr(req.context, "session", None)
        if session is not None:
            self.sessions.saw(session.sid, time.time())


class ServiceCollector(Collector):
    """Values read at scrape time: the session estimate and the reply memos."""

    def __init__(self, metrics: RequestMetrics, memos: Iterable[tuple[str, ReplyMemo]],
                 session_ttl: Callable[[], float]) -> None:
        self.metrics = metrics
        self.memos = list(memos)
        self.session_ttl = session_ttl

    def describe(self) -> list:
        return []

    def collect(self) -> Iterator:
        sessions = GaugeMetricFamily("ccmgr_active_sessions",
                                     "Distinct sessions seen on this node within the idle TTL")
        sessions.add_metric([], self.metrics.sessions.count(self.session_ttl(), time.time()))
        hits = CounterMetricFamily("ccmgr_aggregate_cache_hits",
                                   "Aggregate replies served from the reply memo",
                                   labels=("route",))
        misses = CounterMetricFamily("ccmgr_aggregate_cache_misses",
                                     "Aggregate replies rendered anew", labels=("route",))
        for route, memo in self.memos:
            hits.add_metric([route], memo.hits)
            misses.add_metric([route], memo.misses)
        yield from (sessions, hits, misses)
