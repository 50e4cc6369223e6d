"""cmon records re-shaped the way cmon-proxy re-serialises them (spec §5.5). Pure.

cmon-proxy decodes controller replies into Go structs and encodes them again, so a reply
carries exactly the struct's keys, in struct order: unknown keys vanish, missing ones
appear with zero values (unless ``omitempty``), times become second-precision RFC 3339
(``""`` for none, never null) and "CmonInt" fields accept numeric strings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from ccmgr.cmon import wire
from ccmgr.jsonfast import dumps, loads

_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$")
_ZERO_TIME = "0001-01-01T00:00:00"


def norm_time(value: Any) -> str:
    """cmon's ``2020-12-17T13:32:41.000Z`` → ``2020-12-17T13:32:41Z``; null/"null"/junk → ""."""
    if not isinstance(value, str):
        return ""
    match = _TIME.match(value.strip())
    if match is None or match.group(1) == _ZERO_TIME:
        return ""
    return match.group(1) + match.group(2)


def as_int(value: Any) -> int:
    """Numbers, numeric strings (CmonInt), floats (floored); anything else is 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return math.floor(value) if math.isfinite(value) else 0
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return 0
            return math.floor(number) if math.isfinite(number) else 0
    return 0


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _any(value: Any) -> Any:
    return value


def as_number(value: Any) -> int | float:
    """A JSON number kept as sent (97.5 stays 97.5); numeric strings parsed; else 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else 0
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                number = float(value.strip())
            except ValueError:
                return 0
            return number if math.isfinite(number) else 0
    return 0


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "s": _str, "i": as_int, "b": _bool, "t": norm_time, "o": _any, "n": as_number,
}
_ZERO = {"s": "", "i": 0, "b": False, "t": "", "o": None, "n": 0}

# (key, kind, omitempty). Kinds: s string, i int (CmonInt), b bool, t NullTime, o any,
# n number (float64 in Go: kept as sent).
Field = tuple[str, str, bool]


def _shape(record: Any, fields: tuple[Field, ...]) -> dict:
    if not isinstance(record, dict):
        return {}
    out = {}
    get = record.get
    for key, kind, omitempty in fields:
        value = get(key)
        if value is None:
            if omitempty:
                continue
            out[key] = _ZERO[kind]
            continue
        value = _CONVERT[kind](value)
        if omitempty and (value == _ZERO[kind] or value in ((), [], {})):
            continue
        out[key] = value
    return out


def _group(record: dict, out: dict, keys: tuple[Field, ...]) -> None:
    """An embedded Go struct pointer: its keys appear only if cmon sent one of them."""
    if any(key in record for key, _, _ in keys):
        out.update(_shape(record, keys))


_DISTRIBUTION = (("codename", "s", False), ("name", "s", False), ("release", "s", False),
                 ("type", "s", False))
_SSL_SERVER = (("ca", "s", False), ("id", "i", False), ("key", "s", False),
               ("path", "s", False), ("ssl_enabled", "b", False))
_REPLICATION_SLAVE = (
    ("master_cluster_id", "i", True), ("master_host", "s", True), ("master_port", "i", True),
    ("prev_master_host", "s", True), ("prev_master_port", "i", True),
    ("seconds_behind_master", "i", True), ("status", "s", True),
    ("slave_io_running", "s", True), ("slave_sql_running", "s", True))

HOST_FIELDS: tuple[Field, ...] = (
    ("acl", "s", False), ("cdt_path", "s", False), ("clusterid", "i", False),
    ("connected", "b", False), ("container", "b", False), ("datadir", "s", False),
    ("distribution", "o", False), ("hostId", "i", False), ("hostname", "s", False),
    ("hostname_data", "s", False), ("hostname_internal", "s", False),
    ("hoststatus", "s", False), ("ip", "s", False), ("lastseen", "i", False),
    ("listening_port", "i", False), ("log_bin", "s", False), ("log_bin_basename", "s", False),
    ("logfile", "s", False), ("maintenance_mode", "s", False),
    ("maintenance_mode_active", "b", False), ("message", "s", False), ("nodetype", "s", False),
    ("performance_schema", "b", False), ("pid", "i", True), ("pidfile", "s", True),
    ("pingstatus", "i", True), ("pingtime", "i", True), ("port", "i", False),
    ("readonly", "b", False), ("replication_slave", "o", True), ("role", "s", False),
    ("ro_port", "i", False), ("rw_port", "i", False), ("service_started", "i", False),
    ("ssl_certs", "o", False), ("stopped_at", "s", False), ("unique_id", "i", False),
    ("uptime", "i", False), ("replica", "o", False), ("replication_state", "s", True),
)


def host(record: Any) -> dict:
    if not isinstance(record, dict):
        return {}
    out = {"class_name": _str(record["class_name"])} if "class_name" in record else {}
    out.update(_shape(record, HOST_FIELDS))
    out["distribution"] = _shape(record.get("distribution") or {}, _DISTRIBUTION)
    out["ssl_certs"] = _ssl_certs(record.get("ssl_certs"))
    if "replication_slave" in out:
        out["replication_slave"] = _shape(out["replication_slave"], _REPLICATION_SLAVE)
    if isinstance(out.get("replica"), dict):  # a pointer: null when cmon sent none
        out["replica"] = {"synchronization_health": _str(
            out["replica"].get("synchronization_health"))}
    else:
        out["replica"] = None
    return out


def _ssl_certs(value: Any) -> dict:
    value = value if isinstance(value, dict) else {}

    def one(cert: Any) -> dict | None:
        return _shape(cert, _SSL_SERVER) if isinstance(cert, dict) else None

    return {"replication": one(value.get("replication")), "server": one(value.get("server"))}


CLUSTER_FIELDS: tuple[Field, ...] = (
    ("cluster_id", "i", False), ("cluster_name", "s", False), ("cluster_type", "s", False),
    ("state", "s", False), ("maintenance_mode_active", "b", False),
    ("cluster_auto_recovery", "b", False), ("node_auto_recovery", "b", False),
    ("vendor", "s", False), ("version", "s", False),
)


def cluster(record: Any, *, with_hosts: bool = True) -> dict:
    """A cluster; ``hosts`` and ``tags`` only when non-empty, ``databases`` never (not fetched)."""
    if not isinstance(record, dict):
        return {}
    shaped = _shape(record, CLUSTER_FIELDS)
    out = {"class_name": _str(record["class_name"])} if "class_name" in record else {}
    for key in ("cluster_id", "cluster_name", "cluster_type"):
        out[key] = shaped[key]
    hosts = [host(h) for h in record.get("hosts") or () if isinstance(h, dict)] \
        if with_hosts else []
    if hosts:
        out["hosts"] = hosts
    out["state"] = shaped["state"]
    out["maintenance_mode_active"] = shaped["maintenance_mode_active"]
    tags = [t for t in record.get("tags") or () if isinstance(t, str)]
    if tags:
        out["tags"] = tags
    for key in ("cluster_auto_recovery", "node_auto_recovery", "vendor", "version"):
        out[key] = shaped[key]
    return out


def _tags(value: Any) -> list[str]:
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def light_host(record: dict, cluster_blob: bytes, index: int) -> dict:
    """What filters, sorting and counts need; the full host is shaped per reply page from
    its cluster's encoded record (``raw_host``)."""
    return {"hostId": as_int(record.get("hostId")), "clusterid": as_int(record.get("clusterid")),
            "hostname": _str(record.get("hostname")), "port": as_int(record.get("port")),
            "role": _str(record.get("role")), "nodetype": _str(record.get("nodetype")),
            "hoststatus": _str(record.get("hoststatus")), "_raw": (cluster_blob, index)}


def light_cluster(record: dict) -> dict:
    """The cached form of a cluster: the fields aggregates read, plus the record encoded.

    Shaping every host of 50 controllers x 40 clusters at fetch time cost more CPU than
    the controllers' latency, so replies shape only the records they return. The raw
    record is kept as compact JSON bytes, not as decoded dicts: the decoded estate was
    ~1 million objects whose garbage-collector passes and deallocation on every refresh
    cost more CPU than decoding it (docs/benchmarks.md), and it dominated the worker's
    memory. What clusters/status needs per cluster is counted here: ``nodes`` (hosts) and
    ``node_states`` (host status counts without controller hosts). The light hosts that
    clusters/hosts filters and sorts are made on first use (``hosts_of``).
    """
    blob = dumps(record)
    nodes = 0
    node_states: dict[str, int] = {}
    for raw in record.get("hosts") or ():
        if not isinstance(raw, dict):
            continue
        nodes += 1
        if _str(raw.get("nodetype")) != "controller":
            status = _str(raw.get("hoststatus"))
            node_states[status] = node_states.get(status, 0) + 1
    return {"cluster_id": as_int(record.get("cluster_id")),
            "state": _str(record.get("state")),
            "cluster_type": _str(record.get("cluster_type")),
            "tags": _tags(record.get("tags")),
            "nodes": nodes, "node_states": node_states, "_raw": blob, "_hosts": None}


def _bytes_of(blob: Any) -> Any:
    """A cached record's bytes: ``bytes``, or where it is in the controller's reply
    (``cmon.wire.ClusterBytes``: a ``msgspec.Raw`` slice)."""
    return blob.raw() if isinstance(blob, wire.ClusterBytes) else blob


def _decoded(blob: Any) -> Any:
    """A cached record decoded (through a memoryview: a Raw slice is read without a copy)."""
    return loads(memoryview(_bytes_of(blob)))


def hosts_of(light: dict) -> list[dict]:
    """The light hosts of a cached cluster, made from its record on first use and kept
    (threads that race here build equal lists; the last one stays)."""
    hosts = light["_hosts"]
    if hosts is None:
        blob = light["_raw"]
        hosts = [light_host(raw, blob, index)
                 for index, raw in enumerate(_decoded(blob).get("hosts") or ())
                 if isinstance(raw, dict)]
        light["_hosts"] = hosts
    return hosts


def raw_cluster(light: dict) -> dict:
    """The controller's record of a cached (light) cluster, decoded again."""
    return _decoded(light["_raw"])


def raw_cluster_head(light: dict) -> dict:
    """The top-level fields of a cached cluster's record, enough for ``cluster(...,
    with_hosts=False)``, without decoding its hosts (a list page shows 50 clusters)."""
    head = wire.cluster_head(_bytes_of(light["_raw"]))
    return head if head is not None else raw_cluster(light)


def raw_host(light: dict) -> dict:
    """The controller's record of a cached (light) host, decoded again."""
    blob, index = light["_raw"]
    return _decoded(blob)["hosts"][index]


ALARM_FIELDS: tuple[Field, ...] = (
    ("alarm_id", "i", False), ("cluster_id", "i", False), ("component_name", "s", False),
    ("created", "t", False), ("hostname", "s", False), ("title", "s", False),
    ("message", "s", False), ("recommendation", "s", False), ("severity_name", "s", False),
    ("type_name", "s", False), ("ignored", "i", False),
)


def alarm(record: Any) -> dict:
    return _shape(record, ALARM_FIELDS)


_JOB_OWNER = (("owner_user_id", "i", False), ("owner_user_name", "s", False))
_JOB_USER = (("user_id", "i", False), ("user_name", "s", False))
_JOB_GROUP = (("group_id", "i", False), ("group_name", "s", False))
_JOB_OWN: tuple[Field, ...] = (
    ("can_be_aborted", "b", True), ("can_be_deleted", "b", True), ("created", "t", False),
    ("ended", "t", False), ("exit_code", "i", True), ("ip_address", "s", True),
    ("job_id", "i", True), ("parent_job_id", "i", True), ("rpc_version", "s", True),
    ("started", "t", False), ("status", "s", True), ("status_text", "s", True),
    ("title", "s", True), ("recurrence", "s", True),
)


def job_spec(value: Any) -> dict | None:
    """An object, JSON inside a string, or free text (then it is the command)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {"command": value, "job_data": None}
        if not isinstance(parsed, dict):
            return {"command": value, "job_data": None}
        value = parsed
    if not isinstance(value, dict):
        return None
    return {"command": _str(value.get("command")), "job_data": value.get("job_data")}


def job(record: Any) -> dict:
    if not isinstance(record, dict):
        return {}
    out = {"class_name": _str(record["class_name"])} if "class_name" in record else {}
    _group(record, out, _JOB_OWNER)
    tags = record.get("tags")
    if isinstance(tags, list) and tags:
        out["tags"] = [t for t in tags if isinstance(t, str)]
    cluster_id = as_int(record.get("cluster_id"))
    if cluster_id:
        out["cluster_id"] = cluster_id
    _group(record, out, _JOB_USER)
    _group(record, out, _JOB_GROUP)
    out.update(_shape(record, _JOB_OWN))
    spec = job_spec(record.get("job_spec"))
    if spec is not None:
        out["job_spec"] = spec
    out["has_progress"] = _bool(record.get("has_progress"))
    out["progress_percent"] = as_number(record.get("progress_percent"))
    return out


def job_command(record: dict) -> str:
    spec = record.get("job_spec")
    return spec.get("command", "") if isinstance(spec, dict) else ""


_LOCATION = (("type", "s", False), ("created_time", "s", False), ("finished_time", "s", False),
             ("being_deleted", "b", False), ("retention", "i", False))
_HOST_LOCATION = (*_LOCATION, ("host_location_uuid", "s", False), ("root_dir", "s", False),
                  ("storage_host", "s", False))
_CLOUD_LOCATION = (*_LOCATION, ("cloud_location_uuid", "s", False),
                   ("bucket_and_path", "s", False), ("credentials_id", "i", False),
                   ("provider", "s", False), ("storage_service", "s", False))
_BACKUP_FILE = (("class_name", "s", True), ("created", "t", False), ("hash", "s", False),
                ("path", "s", False), ("size", "i", False), ("type", "s", False))
_METADATA_HEAD = (("id", "i", False), ("cid", "i", False), ("parent_id", "i", False),
                  ("chain_up", "i", False), ("children", "i", False))
_METADATA_TAIL = (("method", "s", False), ("status", "s", False), ("created", "t", False),
                  ("finished", "t", False))


def _backup_data(item: Any) -> dict:
    item = item if isinstance(item, dict) else {}
    return {"db": _str(item.get("db")),
            "files": [_shape(f, _BACKUP_FILE) for f in item.get("files") or ()
                      if isinstance(f, dict)],
            "start_time": norm_time(item.get("start_time"))}


def backup(record: Any) -> dict:
    if not isinstance(record, dict):
        return {}
    meta = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    metadata = {"class_name": _str(meta["class_name"])} if "class_name" in meta else {}
    metadata.update(_shape(meta, _METADATA_HEAD))
    metadata["backup"] = [_backup_data(b) for b in meta.get("backup") or ()]
    metadata.update(_shape(meta, _METADATA_TAIL))
    return {
        "host_locations": [_shape(x, _HOST_LOCATION) for x in record.get("host_locations") or ()
                           if isinstance(x, dict)],
        "cloud_locations": [_shape(x, _CLOUD_LOCATION)
                            for x in record.get("cloud_locations") or () if isinstance(x, dict)],
        "metadata": metadata,
    }


_LOG_ORIGINS_ZERO = {"sender_binary": "", "sender_file": "", "sender_line": 0,
                     "sender_pid": 0, "tv_nsec": 0, "tv_sec": 0}


def log_entry(record: Any) -> dict:
    """cmon-proxy's copy drops the origins: they are always zero in its replies."""
    if not isinstance(record, dict):
        return {}
    specifics = record.get("log_specifics") if isinstance(record.get("log_specifics"),
                                                          dict) else {}
    return {
        "log_id": as_int(record.get("log_id")),
        "log_class": _str(record.get("log_class")),
        "created": norm_time(record.get("created")),
        "severity": _str(record.get("severity")),
        "log_specifics": {"cluster_id": as_int(specifics.get("cluster_id")),
                          "message_text": _str(specifics.get("message_text"))},
        "log_origins": dict(_LOG_ORIGINS_ZERO),
    }


AUDIT_FIELDS: tuple[Field, ...] = (
    ("cluster_id", "i", False), ("client_hostname", "s", False), ("report_ts", "t", False),
    ("entry_type", "s", False), ("message_text", "s", False), ("username", "s", False),
)


def audit_entry(record: Any) -> dict:
    return _shape(record, AUDIT_FIELDS)


LICENSE_FIELDS: tuple[Field, ...] = (
    ("company", "s", False), ("days_left", "i", False), ("email_address", "s", False),
    ("expiration_date", "s", False), ("licensed_nodes", "i", False), ("type", "s", False),
    ("used_nodes", "i", False), ("valid_date", "b", False),  # Go: ValidDate bool
)
LICENSE_CHECK_FIELDS: tuple[Field, ...] = (
    ("expires_days", "i", False), ("has_license", "b", False), ("status_text", "s", False),
)


def license_info(record: Any, fields: tuple[Field, ...]) -> dict | None:
    if not isinstance(record, dict):
        return None
    out = {"class_name": _str(record["class_name"])} if record.get("class_name") else {}
    out.update(_shape(record, fields))
    return out
