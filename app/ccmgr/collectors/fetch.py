"""What is fetched from one controller per data kind (cmon-proxy spec §4.1, §5.4).

Each function takes a logged-in-on-demand ``CmonClient`` and a ``FetchContext`` and
returns a plain payload dict with records already re-shaped (``views.records``), so the
cache holds exactly what replies need. Failures raise ``collectors.errors`` types.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ccmgr.cmon import records, wire
from ccmgr.cmon.client import CmonClient
from ccmgr.cmon.errors import BadReply, CmonError, ControllerError
from ccmgr.jsonfast import loads

PAGE = 32
MAX_PAGES = 500  # a controller that pages forever must not keep a thread forever
PER_CLUSTER_LIMIT = 100
STOP_PAGING = ("ClusterNotFound", "ObjectNotFound", "AccessDenied")


@dataclass
class FetchContext:
    deadline: float
    now: datetime
    cluster_ids: list[int] = field(default_factory=list)
    fetch_jobs_hours: int = 12
    fetch_backups_days: int = 7
    fanout: Executor | None = None


def fetch_ping(client: CmonClient, ctx: FetchContext) -> dict:
    reply = client.ping(ctx.deadline)
    return {"controller_id": str(reply.get("controller_id") or client.controller_id),
            "version": client.version}


CLUSTERS_QUERY = {"operation": "getAllClusterInfo", "with_hosts": True,
                  "with_license_check": True, "with_tags": True}


def fetch_clusters(client: CmonClient, ctx: FetchContext) -> dict:
    typed, reply = client.call_typed("clusters", CLUSTERS_QUERY, ctx.deadline,
                                     wire.decode_clusters)
    return clusters_payload(reply, typed)


def clusters_payload(reply: bytes, typed: wire.ClustersReply | None = None, *,
                     tolerant: bool = False) -> dict:
    """The cached "clusters" payload from a controller's ``getAllClusterInfo`` reply body
    (judged Ok already; ``typed``: its typed decode if made already; ``tolerant``: take the
    tolerant path whatever the reply, as tests and benches compare the two); ``reply`` is
    kept in it, the storage its records point into. Raises ``BadReply`` for a body that is
    not a JSON object."""
    if typed is None and not tolerant:
        typed = wire.decode_clusters(reply)
    if typed is not None:
        clusters = wire.light_clusters(typed, reply)
        processed = typed.request_processed
        licenses = [loads(memoryview(raw)) for raw in (typed.license, typed.license_check)]
    else:  # the tolerant path: odd types, NaN, non-object items (cmon.wire says why)
        try:
            decoded = loads(reply)
        except ValueError:
            raise BadReply("getAllClusterInfo: not a JSON reply") from None
        if not isinstance(decoded, dict):
            raise BadReply("getAllClusterInfo: the reply is not a JSON object")
        clusters = [records.light_cluster(c) for c in decoded.get("clusters") or ()
                    if isinstance(c, dict)]
        processed = decoded.get("request_processed")
        licenses = [decoded.get("license"), decoded.get("license_check")]
    return {
        "clusters": clusters,
        "processed": records.norm_time(processed),
        "license": records.license_info(licenses[0], records.LICENSE_FIELDS),
        "license_check": records.license_info(licenses[1], records.LICENSE_CHECK_FIELDS),
        "reply": reply,
    }


def _created(record: dict, key: str = "created") -> datetime | None:
    value = record.get(key, "")
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _paged(client: CmonClient, ctx: FetchContext, module: str, body: dict, items_key: str,
           shape: Callable[[Any], dict], id_of: Callable[[dict], int],
           cutoff: datetime) -> list[dict]:
    """Newest first, PAGE at a time, until an item older than ``cutoff`` or an empty page.

    An item is kept only if its id is below the previous one (cmon-proxy's de-duplication
    while new items shift the pages).
    """
    out: list[dict] = []
    last_id: int | None = None
    for page in range(MAX_PAGES):
        try:
            reply = client.call(module, {**body, "limit": PAGE, "offset": page * PAGE},
                                ctx.deadline)
        except ControllerError as exc:
            if exc.status in STOP_PAGING and out:
                return out
            raise
        items = reply.get(items_key) or []
        if not items:
            return out
        for raw in items:
            record = shape(raw)
            if not record:
                continue
            created = _created(record) if "created" in record else _created(
                record.get("metadata", {}))
            if created is not None and created < cutoff:
                return out
            ident = id_of(record)
            if last_id is None or ident < last_id:
                out.append(record)
                last_id = ident
        total = reply.get("total")
        if isinstance(total, int) and (page + 1) * PAGE >= total:
            return out
    return out


def fetch_jobs(client: CmonClient, ctx: FetchContext) -> dict:
    body: dict[str, Any] = {"operation": "getJobInstances"}
    if ctx.cluster_ids:
        body["cluster_ids"] = list(ctx.cluster_ids)
    cutoff = ctx.now - timedelta(hours=ctx.fetch_jobs_hours)
    jobs = _paged(client, ctx, "jobs", body, "jobs", records.job,
                  lambda j: j.get("job_id", 0), cutoff)
    return {"jobs": jobs}


def fetch_backups(client: CmonClient, ctx: FetchContext) -> dict:
    body = {"operation": "getBackups", "ascending": False, "parent_id": 0,
            "backup_record_version": 2}
    cutoff = ctx.now - timedelta(days=ctx.fetch_backups_days)
    backups = _paged(client, ctx, "backup", body, "backup_records", records.backup,
                     lambda b: b["metadata"].get("id", 0), cutoff)
    reply = client.call("jobs", {"operation": "getJobInstances", "show_scheduled": True},
                        ctx.deadline)
    schedules = [records.job(j) for j in reply.get("jobs") or () if isinstance(j, dict)]
    schedules = [j for j in schedules if records.job_command(j).lower() == "backup"]
    return {"backups": backups, "schedules": schedules}


def _per_cluster(client: CmonClient, ctx: FetchContext,
                 one: Callable[[int], tuple[list[dict], str]]) -> dict:
    """One call per cluster, a few at a time; clusters whose call failed are left out."""
    ids = list(ctx.cluster_ids)
    results: dict[int, tuple[list[dict], str]] = {}
    errors: list[CmonError] = []

    def run(cid: int) -> None:
        try:
            results[cid] = one(cid)
        except CmonError as exc:
            errors.append(exc)

    if ctx.fanout is None or len(ids) < 2:
        for cid in ids:
            run(cid)
    else:
        futures = [ctx.fanout.submit(run, cid) for cid in ids]
        for future in futures:
            future.result(timeout=max(0.01, ctx.deadline - time.monotonic()) + 1)
    if ids and not results and errors:
        raise errors[0]
    items = [item for cid in ids if cid in results for item in results[cid][0]]
    processed = max((results[cid][1] for cid in results), default="")
    return {"items": items, "clusters": sorted(results), "processed": processed,
            "failed": len(errors)}


def _per_cluster_call(module: str, body: dict, items_key: str,
                      shape: Callable[[dict], dict]) -> Callable[[CmonClient, FetchContext], dict]:
    """A fetcher that makes one ``module`` call per cluster and shapes ``items_key``."""

    def fetch(client: CmonClient, ctx: FetchContext) -> dict:
        def one(cid: int) -> tuple[list[dict], str]:
            reply = client.call(module, {**body, "cluster_id": cid}, ctx.deadline)
            items = [shape(x) for x in reply.get(items_key) or () if isinstance(x, dict)]
            return items, records.norm_time(reply.get("request_processed"))

        return _per_cluster(client, ctx, one)

    return fetch


fetch_alarms = _per_cluster_call("alarm", {"operation": "getAlarms"}, "alarms", records.alarm)
fetch_logs = _per_cluster_call("log", {"operation": "getLogEntries", "limit": PER_CLUSTER_LIMIT,
                                      "offset": 0}, "log_entries", records.log_entry)
fetch_audit = _per_cluster_call("audit", {"operation": "getEntries", "limit": PER_CLUSTER_LIMIT,
                                          "offset": 0}, "audit_entries", records.audit_entry)


FETCHERS: dict[str, Callable[[CmonClient, FetchContext], dict]] = {
    "ping": fetch_ping,
    "clusters": fetch_clusters,
    "alarms": fetch_alarms,
    "jobs": fetch_jobs,
    "backups": fetch_backups,
    "logs": fetch_logs,
    "audit": fetch_audit,
}
# Kinds whose fetch needs the controller's cluster id list first.
NEEDS_CLUSTERS = ("alarms", "jobs", "logs", "audit")


def cluster_ids(clusters_payload: dict | None) -> list[int]:
    if not clusters_payload:
        return []
    return [c["cluster_id"] for c in clusters_payload.get("clusters", ())]

