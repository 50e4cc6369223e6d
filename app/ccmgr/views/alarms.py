"""alarms/status and alarms/list (spec §2.7, §4.3). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from ccmgr.cmon.model import ControllerData
from ccmgr.views.common import bump, cluster_index, matching_records, proxy_fields
from ccmgr.views.listrequest import Filter, ListRequest, Match, list_reply

ALARM_SORT = {
    "created": lambda i: i["created"],
    "cluster_id": lambda i: i["cluster_id"],
    "severity_name": lambda i: i["severity_name"],
    "type_name": lambda i: i["type_name"],
    "hostname": lambda i: i["hostname"],
    "component_name": lambda i: i["component_name"],
}


def _counts() -> dict:
    return {"alarms_count": {}, "alarm_types": {}}


def _count(target: dict, alarm: dict) -> None:
    bump(target["alarms_count"], alarm["severity_name"])
    bump(target["alarm_types"], alarm["type_name"])


def alarms_status(controllers: Sequence[ControllerData], filters: Sequence[Filter]) -> dict:
    """AlarmsOverview: by_controller holds every object under its xid *and* its URL."""
    match = Match(filters)
    body = {**_counts(), "by_controller": {}, "by_cluster_type": {}}
    for c in controllers:
        clusters = c.clusters()
        if clusters is None:
            continue
        index = cluster_index(c)
        mine = {**_counts(), "by_cluster": {}}
        body["by_controller"][c.xid] = mine
        body["by_controller"][c.url] = mine
        payload = c.payload("alarms") or {"items": [], "clusters": []}
        for cid in payload["clusters"]:
            cluster = index.get(cid, {})
            if not match.tags_ok(cluster.get("tags")):
                continue
            mine["by_cluster"][str(cid)] = _counts()
            kind = body["by_cluster_type"].setdefault(cluster.get("cluster_type", ""),
                                                      {**_counts(), "by_controller": {}})
            kind["by_controller"].setdefault(c.xid, _counts())
        for alarm in payload["items"]:
            cluster = index.get(alarm["cluster_id"], {})
            if not (match.tags_ok(cluster.get("tags"))
                    and match.value("ignored", str(alarm["ignored"]))):
                continue
            kind = body["by_cluster_type"].setdefault(cluster.get("cluster_type", ""),
                                                      {**_counts(), "by_controller": {}})
            per_ctl = kind["by_controller"].setdefault(c.xid, _counts())
            kind["by_controller"][c.url] = per_ctl  # URL alias once an alarm was counted
            per_cluster = mine["by_cluster"].setdefault(str(alarm["cluster_id"]), _counts())
            for target in (body, mine, per_cluster, kind, per_ctl):
                _count(target, alarm)
        if not mine["by_cluster"]:
            del mine["by_cluster"]
    if not body["by_controller"]:
        del body["by_controller"]
    if not body["by_cluster_type"]:
        del body["by_cluster_type"]
    return body


def _alarm_pairs(c: ControllerData, alarm: dict, cid: int, cluster: dict) -> tuple:
    return (("cluster_id", str(cid)), ("cluster_type", cluster.get("cluster_type", "")),
            ("severity_name", alarm["severity_name"]), ("type_name", alarm["type_name"]),
            ("hostname", alarm["hostname"]), ("component_name", alarm["component_name"]),
            ("ignored", str(alarm["ignored"])))


def alarms_list(controllers: Sequence[ControllerData], req: ListRequest) -> dict:
    found, last_updated = matching_records(
        controllers, req.filters, "alarms", lambda p: p["items"], lambda a: a["cluster_id"],
        _alarm_pairs, updated_of=lambda c, p: p["processed"] or None)
    items = [{**proxy_fields(c), **alarm} for c, alarm in found]
    return list_reply("alarms", items, req, last_updated, req.order, ALARM_SORT)
