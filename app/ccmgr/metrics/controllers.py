"""Per-controller and estate metrics, read from the collectors' cache at scrape time.

Only the shared (static-credential) identity's entries count: LDAP users' private copies
of the same controllers would repeat the estate. Nothing here starts a fetch.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ccmgr.cmon.errors import CmonError
from ccmgr.collectors.clients import DEFAULT_IDENTITY
from ccmgr.collectors.service import Collectors
from ccmgr.config import ConfigStore

LABELS = ("xid", "name")
FETCH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class FetchMetrics:
    """Fetch durations and errors, observed by the collectors after every fetch.

    The duration histogram is by kind only: per controller it would be 15 series per kind
    (about 30 000 at 500 controllers), which made a scrape take most of a second
    (docs/benchmarks.md). Errors, rare, stay per controller."""

    def __init__(self, registry: CollectorRegistry, store: ConfigStore) -> None:
        self.store = store
        self.duration = Histogram(
            "ccmgr_controller_fetch_duration_seconds",
            "Time one fetch of one data kind from one controller took",
            ("kind",), buckets=FETCH_BUCKETS, registry=registry)
        self.errors = Counter(
            "ccmgr_controller_fetch_errors", "Failed fetches by data kind and error type",
            (*LABELS, "kind", "error"), registry=registry)
        self._names: tuple[object, dict[str, str]] = (None, {})

    def name_of(self, xid: str) -> str:
        config = self.store.current()
        if self._names[0] is not config:  # one object per file version
            self._names = (config, {i["xid"]: i.get("name", "") for i in config.instances})
        return self._names[1].get(xid, "")

    def observe(self, xid: str, kind: str, seconds: float, error: CmonError | None) -> None:
        name = self.name_of(xid)
        self.duration.labels(kind).observe(seconds)
        if error is not None:
            self.errors.labels(xid, name, kind, type(error).__name__).inc()


def _failed(status: object) -> bool:
    return str(status).lower() in ("failed", "aborted")


class ControllerCollector(Collector):
    def __init__(self, collectors: Collectors, store: ConfigStore) -> None:
        self.collectors = collectors
        self.store = store

    def describe(self) -> list:
        return []  # no describe-time collect: a scrape is the only time the cache is read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        config = self.store.current()
        names = {i["xid"]: i.get("name", "") for i in config.instances}
        now = self.collectors.clock()
        entries: dict[str, dict] = {}
        for key, entry in self.collectors.cache.items():
            identity, xid, kind = key  # type: ignore[misc]
            if identity == DEFAULT_IDENTITY and xid in names:
                entries.setdefault(xid, {})[kind] = entry
        up = GaugeMetricFamily("ccmgr_controller_up",
                               "1 when the latest fetch from the controller succeeded",
                               labels=LABELS)
        age = GaugeMetricFamily("ccmgr_controller_data_age_seconds",
                                "Age of the cached data by kind", labels=(*LABELS, "kind"))
        login = GaugeMetricFamily("ccmgr_controller_last_login_timestamp_seconds",
                                  "Unix time of the last successful login", labels=LABELS)
        clusters = GaugeMetricFamily("cmon_cluster_count",
                                     "Clusters by state and type, as the controller reports",
                                     labels=(*LABELS, "state", "cluster_type"))
        hosts = GaugeMetricFamily("ccmgr_hosts", "Database hosts by status (no controller "
                                  "hosts)", labels=(*LABELS, "status"))
        alarms = GaugeMetricFamily("ccmgr_alarms", "Open alarms by severity",
                                   labels=(*LABELS, "severity"))
        jobs = GaugeMetricFamily("ccmgr_failed_jobs", "Failed or aborted jobs within "
                                 "fetch_jobs_hours", labels=LABELS)
        backups = GaugeMetricFamily("ccmgr_failed_backups", "Failed backups within "
                                    "fetch_backups_days", labels=LABELS)
        for xid, kinds in entries.items():
            labels = [xid, names[xid]]
            attempts = [e for e in kinds.values() if e.attempted_at]
            if attempts:
                latest = max(attempts, key=lambda e: e.attempted_at)
                up.add_metric(labels, 0.0 if latest.error is not None else 1.0)
            for kind, entry in sorted(kinds.items()):
                if entry.data is not None:
                    age.add_metric([*labels, kind], max(0.0, now - entry.fetched_at))
            self._estate(labels, kinds, clusters, hosts, alarms, jobs, backups)
        for xid, client in self.collectors.clients.default_clients().items():
            if client.logged_in_at and xid in names:
                login.add_metric([xid, names[xid]], client.logged_in_at)
        ttl = GaugeMetricFamily("ccmgr_cache_ttl_seconds",
                                "cache_ttl: how long fetched data count as fresh")
        ttl.add_metric([], self.collectors.ttl(config))
        yield from (up, age, login, clusters, hosts, alarms, jobs, backups, ttl)

    @staticmethod
    def _estate(labels: list[str], kinds: dict, clusters: GaugeMetricFamily,
                hosts: GaugeMetricFamily, alarms: GaugeMetricFamily,
                jobs: GaugeMetricFamily, backups: GaugeMetricFamily) -> None:
        payload = kinds.get("clusters")
        if payload is not None and payload.data is not None:
            by_state: dict[tuple[str, str], int] = {}
            by_status: dict[str, int] = {}
            for cluster in payload.data.get("clusters", ()):
                key = (cluster.get("state", ""), cluster.get("cluster_type", ""))
                by_state[key] = by_state.get(key, 0) + 1
                for status, count in cluster.get("node_states", {}).items():
                    by_status[status] = by_status.get(status, 0) + count
            for (state, ctype), count in sorted(by_state.items()):
                clusters.add_metric([*labels, state, ctype], count)
            for status, count in sorted(by_status.items()):
                hosts.add_metric([*labels, status], count)
        payload = kinds.get("alarms")
        if payload is not None and payload.data is not None:
            by_severity: dict[str, int] = {}
            for alarm in payload.data.get("items", ()):
                severity = alarm.get("severity_name", "")
                by_severity[severity] = by_severity.get(severity, 0) + 1
            for severity, count in sorted(by_severity.items()):
                alarms.add_metric([*labels, severity], count)
        payload = kinds.get("jobs")
        if payload is not None and payload.data is not None:
            jobs.add_metric(labels, sum(1 for j in payload.data.get("jobs", ())
                                        if _failed(j.get("status"))))
        payload = kinds.get("backups")
        if payload is not None and payload.data is not None:
            backups.add_metric(labels, sum(
                1 for b in payload.data.get("backups", ())
                if _failed(b.get("metadata", {}).get("status"))))
