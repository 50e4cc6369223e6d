"""jobs/status and jobs/list (spec §2.7, §4.4). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from ccmgr.cmon.model import ControllerData
from ccmgr.cmon.records import job_command
from ccmgr.views.common import bump, cluster_index, matching_records, proxy_fields
from ccmgr.views.listrequest import Filter, ListRequest, Match, list_reply

JOB_SORT = {
    "cluster_id": lambda i: i.get("cluster_id", 0),
    "job_command": lambda i: job_command(i),
    "job_id": lambda i: i.get("job_id", 0),
    "status": lambda i: i.get("status", ""),
    "title": lambda i: i.get("title", ""),
    "created": lambda i: i.get("created", ""),
}
NEWEST_FIRST = (lambda i: i.get("created", ""), True)  # v2.2 default, direction forced


def _counts() -> dict:
    return {"job_count": {}, "job_commands": {}}


def jobs_status(controllers: Sequence[ControllerData], filters: Sequence[Filter]) -> dict:
    """JobsStatus: keyed by controller URL everywhere (as cmon-proxy does)."""
    match = Match(filters)
    body = {**_counts(), "by_controller": {}, "by_cluster_type": {}}
    for c in controllers:
        if c.clusters() is None:
            continue
        index = cluster_index(c)
        mine = body["by_controller"].setdefault(c.url, _counts())
        for job in (c.payload("jobs") or {"jobs": []})["jobs"]:
            cluster = index.get(job.get("cluster_id", 0), {})
            if not match.tags_ok(cluster.get("tags")):
                continue
            kind = body["by_cluster_type"].setdefault(cluster.get("cluster_type", ""),
                                                      {**_counts(), "by_controller": {}})
            per_ctl = kind["by_controller"].setdefault(c.url, _counts())
            for target in (body, mine, kind, per_ctl):
                bump(target["job_count"], job.get("status", ""))
                bump(target["job_commands"], job_command(job))
    if not body["by_controller"]:
        del body["by_controller"]
    if not body["by_cluster_type"]:
        del body["by_cluster_type"]
    return body


def _job_pairs(c: ControllerData, job: dict, cid: int, cluster: dict) -> tuple:
    return (("cluster_id", str(cid)), ("job_id", str(job.get("job_id", 0))),
            ("cluster_type", cluster.get("cluster_type", "")),
            ("job_command", job_command(job)), ("status", job.get("status", "")))


def jobs_list(controllers: Sequence[ControllerData], req: ListRequest) -> dict:
    found, last_updated = matching_records(
        controllers, req.filters, "jobs", lambda p: p["jobs"],
        lambda j: j.get("cluster_id", 0), _job_pairs)
    items = [{**proxy_fields(c), **job} for c, job in found]
    return list_reply("jobs", items, req, last_updated, req.order, JOB_SORT, NEWEST_FIRST)
