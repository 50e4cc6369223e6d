"""backups/status, backups/list, backups/schedules (spec §2.7, §4.5). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from ccmgr.cmon.model import ControllerData
from ccmgr.views.common import bump, cluster_index, matching_records, proxy_fields
from ccmgr.views.listrequest import Filter, ListRequest, Match, list_reply

BACKUP_SORT = {
    "cluster_id": lambda i: i["metadata"].get("cid", 0),
    "status": lambda i: i["metadata"].get("status", ""),
    "method": lambda i: i["metadata"].get("method", ""),
    "id": lambda i: i["metadata"].get("id", 0),
    "backup_id": lambda i: i["metadata"].get("id", 0),
    "created": lambda i: i["metadata"].get("created", ""),
}
SCHEDULE_SORT = {
    "cluster_id": lambda i: i.get("cluster_id", 0),
    "job_id": lambda i: i.get("job_id", 0),
    "status": lambda i: i.get("status", ""),
    "title": lambda i: i.get("title", ""),
    "created": lambda i: i.get("created", ""),
}
NEWEST_FIRST = (lambda i: i["metadata"].get("created", ""), True)


def _counts() -> dict:
    return {"backups_count": {}, "missing_schedules": 0, "schedules_count": 0}


def backups_status(controllers: Sequence[ControllerData], filters: Sequence[Filter]) -> dict:
    """BackupOverview. Unlike cmon-proxy, the per-controller schedule counters are computed."""
    match = Match(filters)
    body = {**_counts(), "by_cluster_type": {}, "by_controller": {}}
    for c in controllers:
        mine = {**_counts(), "by_cluster_type": {}}
        body["by_controller"][c.url] = mine
        index = cluster_index(c)
        payload = c.payload("backups") or {"backups": [], "schedules": []}
        for record in payload["backups"]:
            cluster = index.get(record["metadata"].get("cid", 0), {})
            if not match.tags_ok(cluster.get("tags")):
                continue
            ctype = cluster.get("cluster_type", "")
            status = record["metadata"].get("status", "")
            for target in (body, mine, body["by_cluster_type"].setdefault(ctype, _counts()),
                           mine["by_cluster_type"].setdefault(ctype, _counts())):
                bump(target["backups_count"], status)
        per_cluster: dict[int, int] = {}
        for job in payload["schedules"]:
            cid = job.get("cluster_id", 0)
            if cid in index:
                per_cluster[cid] = per_cluster.get(cid, 0) + 1
        if c.payload("backups") is not None:
            for cid, cluster in index.items():
                ctype = cluster.get("cluster_type", "")
                # Every cached cluster's type is listed, with zero counts when the tags
                # filter leaves none of its clusters (as cmon-proxy v2.2 replies).
                targets = (body, mine, body["by_cluster_type"].setdefault(ctype, _counts()),
                           mine["by_cluster_type"].setdefault(ctype, _counts()))
                if not match.tags_ok(cluster.get("tags")):
                    continue
                count = per_cluster.get(cid, 0)
                for target in targets:
                    if count:
                        target["schedules_count"] += count
                    else:
                        target["missing_schedules"] += 1
        if not mine["by_cluster_type"]:
            del mine["by_cluster_type"]
    for key in ("by_cluster_type", "by_controller"):
        if not body[key]:
            del body[key]
    return body


def _backup_pairs(c: ControllerData, record: dict, cid: int, cluster: dict) -> tuple:
    meta = record["metadata"]
    return (("xid_cid", f"{c.xid}-{cid}"), ("backup_id", str(meta.get("id", 0))),
            ("cluster_id", str(cid)), ("status", meta.get("status", "")),
            ("method", meta.get("method", "")),
            ("cluster_type", cluster.get("cluster_type", "")))


def _schedule_pairs(c: ControllerData, job: dict, cid: int, cluster: dict) -> tuple:
    return (("xid_cid", f"{c.xid}-{cid}"), ("cluster_id", str(cid)),
            ("job_id", str(job.get("job_id", 0))),
            ("cluster_type", cluster.get("cluster_type", "")),
            ("status", job.get("status", "")))


def backups_list(controllers: Sequence[ControllerData], req: ListRequest) -> dict:
    found, last_updated = matching_records(
        controllers, req.filters, "backups", lambda p: p["backups"],
        lambda r: r["metadata"].get("cid", 0), _backup_pairs)
    items = [{**proxy_fields(c), **record, "Key": f"{c.xid}-{record['metadata'].get('id', 0)}"}
             for c, record in found]
    return list_reply("backups", items, req, last_updated, req.order, BACKUP_SORT,
                      NEWEST_FIRST)


def backup_schedules(controllers: Sequence[ControllerData], req: ListRequest) -> dict:
    found, last_updated = matching_records(
        controllers, req.filters, "backups", lambda p: p["schedules"],
        lambda j: j.get("cluster_id", 0), _schedule_pairs)
    items = [{**proxy_fields(c), **job} for c, job in found]
    return list_reply("jobs", items, req, last_updated, req.order, SCHEDULE_SORT)
