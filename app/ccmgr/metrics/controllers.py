"""Per-controller and estate metrics, read from the collectors' cache at scrape time.

Only the shared (static-credential) identity's entries count: LDAP users' private copies
of the same controllers would repeat the estate. Nothing here starts a fetch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from ccmgr.cmon.errors import CmonError
from ccmgr.collectors.cache import SEEDED_ATTEMPT
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

    def observe(self, xid: str, kind: str, seconds: float, error: CmonError | None) -> None:
        self.duration.labels(kind).observe(seconds)
        if error is not None:  # the name costs a stat of the config: only for the rare case
            name = self.store.current().controller_names.get(xid, "")
            self.errors.labels(xid, name, kind, type(error).__name__).inc()


def _failed(status: object) -> bool:
    return str(status).lower() in ("failed", "aborted")


class _Families(Collector):
    """Families handed to prometheus-client's exposition (``generate_latest`` takes any
    object with ``collect``)."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self.families


def _families() -> dict[str, GaugeMetricFamily]:
    """The per-controller families, empty, in exposition order."""
    made = (
        GaugeMetricFamily("ccmgr_controller_up",
                          "1 when the latest fetch from the controller succeeded",
                          labels=LABELS),
        GaugeMetricFamily("ccmgr_controller_data_age_seconds",
                          "Age of the cached data by kind", labels=(*LABELS, "kind")),
        GaugeMetricFamily("ccmgr_controller_last_login_timestamp_seconds",
                          "Unix time of the last successful login", labels=LABELS),
        GaugeMetricFamily("cmon_cluster_count",
                          "Clusters by state and type, as the controller reports",
                          labels=(*LABELS, "state", "cluster_type")),
        GaugeMetricFamily("ccmgr_hosts", "Database hosts by status (no controller hosts)",
                          labels=(*LABELS, "status")),
        GaugeMetricFamily("ccmgr_alarms", "Open alarms by severity",
                          labels=(*LABELS, "severity")),
        GaugeMetricFamily("ccmgr_failed_jobs", "Failed or aborted jobs within "
                          "fetch_jobs_hours", labels=LABELS),
        GaugeMetricFamily("ccmgr_failed_backups", "Failed backups within "
                          "fetch_backups_days", labels=LABELS),
    )
    return {f.name: f for f in made}


def _parse(text: bytes) -> dict[str, tuple[str, list[str]]]:
    """prometheus-client's text cut into families: name -> (HELP and TYPE lines, sample
    lines); a HELP line starts a family."""
    families: dict[str, tuple[list[str], list[str]]] = {}
    header: list[str] = []
    samples: list[str] = []
    for line in text.decode().splitlines(keepends=True):
        if line.startswith("# HELP "):
            header, samples = [line], []
            families[line.split(" ", 3)[2]] = (header, samples)
        elif line.startswith("#"):
            header.append(line)
        else:
            samples.append(line)
    return {name: ("".join(h), lines) for name, (h, lines) in families.items()}


AGE = "ccmgr_controller_data_age_seconds"


@dataclass(frozen=True)
class _Rendered:
    """One controller's sample lines per family, as prometheus-client formatted them, and
    the label part of its age lines (the one value that moves between fetches)."""

    key: tuple
    lines: dict[str, str]
    age_prefixes: tuple[tuple[str, float], ...]  # (line up to the value, fetched_at)


class ControllerExposition:
    """The per-controller part of /metrics, formatted by prometheus-client but only when a
    controller's cached data changed.

    With every sample formatted at each scrape, 500 controllers (~8,700 series) took
    ~250 ms of one CPU: prometheus-client validates and escapes each label of each sample.
    The samples of one controller change only when one of its cache entries is replaced
    (a fetch, or a failed attempt), or at its next login, so its lines are memoized on
    those; only the data ages, which move with the clock, are finished at each scrape,
    from their memoized label part and the library's own number format."""

    def __init__(self, collectors: Collectors, store: ConfigStore) -> None:
        self.collectors = collectors
        self.store = store
        self._memo: dict[str, _Rendered] = {}
        self._lock = threading.Lock()  # scrapes may overlap (gthread); one renders
        self._headers = {name: header for name, (header, _) in _parse(
            generate_latest(_Families(list(_families().values())))).items()}

    def text(self) -> bytes:
        config = self.store.current()
        names = config.controller_names
        entries: dict[str, dict] = {}
        for key, entry in self.collectors.cache.items():
            identity, xid, kind = key  # type: ignore[misc]
            if identity == DEFAULT_IDENTITY and xid in names:
                entries.setdefault(xid, {})[kind] = entry
        logins = {xid: client.logged_in_at
                  for xid, client in self.collectors.clients.default_clients().items()
                  if client.logged_in_at and xid in names}
        now = self.collectors.clock()
        blocks: dict[str, list[str]] = {name: [] for name in self._headers}
        with self._lock:
            memo: dict[str, _Rendered] = {}
            for xid in names.keys() & (entries.keys() | logins.keys()):
                kinds = entries.get(xid, {})
                key = (names[xid], logins.get(xid, 0.0), tuple(sorted(
                    (kind, e.version, e.attempted_at, e.error is None)
                    for kind, e in kinds.items())))
                rendered = self._memo.get(xid)
                if rendered is None or rendered.key != key:
                    rendered = _render(key, [xid, names[xid]], kinds, logins.get(xid))
                memo[xid] = rendered
            self._memo = memo  # controllers that left the config are forgotten
        for xid in sorted(memo):
            rendered = memo[xid]
            for name, lines in rendered.lines.items():
                blocks[name].append(lines)
            blocks[AGE].extend(f"{prefix} {floatToGoString(max(0.0, now - fetched_at))}\n"
                               for prefix, fetched_at in rendered.age_prefixes)
        ttl = GaugeMetricFamily("ccmgr_cache_ttl_seconds",
                                "cache_ttl: how long fetched data count as fresh")
        ttl.add_metric([], self.collectors.ttl(config))
        out = [self._headers[name] + "".join(lines) for name, lines in blocks.items()]
        return "".join(out).encode() + generate_latest(_Families([ttl]))


def _render(key: tuple, labels: list[str], kinds: dict, logged_in_at: float | None
            ) -> _Rendered:
    families = _families()
    # Data kept from the previous run (SEEDED_ATTEMPT) say nothing about the controller now.
    attempts = [e for e in kinds.values() if e.attempted_at not in (0.0, SEEDED_ATTEMPT)]
    if attempts:
        latest = max(attempts, key=lambda e: e.attempted_at)
        families["ccmgr_controller_up"].add_metric(
            labels, 0.0 if latest.error is not None else 1.0)
    fetched = [(kind, e.fetched_at) for kind, e in sorted(kinds.items()) if e.data is not None]
    for kind, _ in fetched:
        families[AGE].add_metric([*labels, kind], 0.0)
    if logged_in_at:
        families["ccmgr_controller_last_login_timestamp_seconds"].add_metric(
            labels, logged_in_at)
    _estate(labels, kinds, families)
    lines = {name: samples for name, (_, samples) in _parse(
        generate_latest(_Families(list(families.values())))).items()}
    ages = tuple((line.rsplit(" ", 1)[0], fetched_at)
                 for line, (_, fetched_at) in zip(lines.pop(AGE, []), fetched, strict=True))
    return _Rendered(key, {name: "".join(v) for name, v in lines.items() if v}, ages)


def _estate(labels: list[str], kinds: dict, families: dict[str, GaugeMetricFamily]) -> None:
    clusters, hosts = families["cmon_cluster_count"], families["ccmgr_hosts"]
    alarms = families["ccmgr_alarms"]
    jobs, backups = families["ccmgr_failed_jobs"], families["ccmgr_failed_backups"]
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
