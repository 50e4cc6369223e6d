"""logs/list and audit/list (spec §2.7). Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ccmgr.cmon.model import ControllerData
from ccmgr.views.common import matching_records, proxy_fields
from ccmgr.views.listrequest import ListRequest, list_reply

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


def _cluster_pairs(c: ControllerData, entry: dict, cid: int, cluster: dict) -> tuple:
    return (("cluster_id", str(cid)), ("cluster_type", cluster.get("cluster_type", "")))


def _entries(controllers: Sequence[ControllerData], req: ListRequest, kind: str,
             cluster_of: Callable[[dict], int]) -> tuple[list[dict], dict]:
    found, last_updated = matching_records(
        controllers, req.filters, kind, lambda p: p["items"], cluster_of, _cluster_pairs,
        updated_of=lambda c, p: p["processed"] or None)
    return [{**proxy_fields(c), **entry} for c, entry in found], last_updated


def logs_list(controllers: Sequence[ControllerData], req: ListRequest) -> dict:
    items, last_updated = _entries(controllers, req, "logs",
                                   lambda e: e["log_specifics"]["cluster_id"])
    return list_reply("logs", items, req, last_updated, req.order, LOG_SORT)


def audit_list(controllers: Sequence[ControllerData], req: ListRequest) -> dict:
    items, last_updated = _entries(controllers, req, "audit", lambda e: e["cluster_id"])
    return list_reply("entries", items, req, last_updated, req.order, AUDIT_SORT)
