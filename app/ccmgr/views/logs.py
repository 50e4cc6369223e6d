"""logs/list and audit/list (spec §2.7). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from ccmgr.views.common import cluster_index, controller_passes, proxy_fields
from ccmgr.views.listrequest import ListRequest, all_pass, list_reply, tags_pass
from ccmgr.views.model import ControllerData

LOG_SORT = {
    "created": lambda i: i["created"],
    "cluster_id": lambda i: i["log_specifics"]["cluster_id"],
    "severity": lambda i: i["severity"],
}
AUDIT_SORT = {
    "report_ts": lambda i: i["report_ts"],
    "cluster_id": lambda i: i["cluster_id"],
    "entry_type": lambda i: i["entry_type"],
}


def _entries(controllers: Sequence[ControllerData], req: ListRequest, kind: str,
             cluster_of: object) -> tuple[list[dict], dict]:
    items, last_updated = [], {}
    f = req.filters
    for c in controllers:
        payload = c.payload(kind)
        if payload is None or not controller_passes(f, c):
            continue
        if payload["processed"]:
            last_updated[c.url] = payload["processed"]
        index = cluster_index(c)
        for entry in payload["items"]:
            cid = cluster_of(entry)  # type: ignore[operator]
            cluster = index.get(cid, {})
            if all_pass(f, (("cluster_id", str(cid)),
                            ("cluster_type", cluster.get("cluster_type", "")))) and tags_pass(
                    f, cluster.get("tags")):
                items.append({**proxy_fields(c), **entry})
    return items, last_updated


def logs_list(controllers: Sequence[ControllerData], req: ListRequest) -> dict:
    items, last_updated = _entries(controllers, req, "logs",
                                   lambda e: e["log_specifics"]["cluster_id"])
    return list_reply("logs", items, req, last_updated, req.order, LOG_SORT)


def audit_list(controllers: Sequence[ControllerData], req: ListRequest) -> dict:
    items, last_updated = _entries(controllers, req, "audit", lambda e: e["cluster_id"])
    return list_reply("entries", items, req, last_updated, req.order, AUDIT_SORT)
