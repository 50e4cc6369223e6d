"""cmon RPC v2 request handling: routing, sessions, operations and the reply envelope.

`handle()` turns one HTTP request into (status code, headers, body) for a
controller. It does no I/O; the transport (server.py) applies faults around it.
List replies are pre-serialised once per (module, operation, parameters) and
cached, so repeated polling costs a dict lookup plus the envelope.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import keys
from .controller import ControllerState, Session
from .estate import ControllerData
from .records import LOG_SEVERITIES, iso
from .users import User

Headers = list[tuple[str, str]]

# Request keys that never influence a reply's payload (so they stay out of cache keys).
ECHO_KEYS = frozenset({"operation", "request_id", "request_created", "class_name"})

# cmon-proxy's own mapping, plausibly modelled on cmon (reference §1.6).
MIRROR_CODES = {"Ok": 200, "InvalidRequest": 400, "ObjectNotFound": 404, "ClusterNotFound": 404,
                "AccessDenied": 401, "AuthRequired": 401, "UnknownError": 500, "TryAgain": 425,
                "Redirect": 307}

CLUSTER_NOT_FOUND = "Cluster was not found."


class RpcError(Exception):
    """A non-Ok reply raised from inside an operation."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Reply:
    status: str = "Ok"
    error: str | None = None
    payload: dict[str, Any] | None = None
    fragment: bytes | None = None  # pre-serialised payload members, no braces
    extra: dict[str, Any] = field(default_factory=dict)  # extra envelope members
    set_cookie: str | None = None
    http_status: int | None = None


@dataclass
class Call:
    """What an operation sees of a request."""

    ctl: ControllerState
    module: str
    path: str  # "/v2/<module>"
    body: dict[str, Any]
    session: Session | None
    sids: tuple[str, ...] = ()  # the request's cmon-sid cookie values

    @property
    def data(self) -> ControllerData:
        return self.ctl.data


Operation = Callable[[Call], Reply]


# -- argument helpers ------------------------------------------------------------------------
def _int(body: dict[str, Any], key: str, default: int | None = None) -> int | None:
    value = body.get(key, default)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise RpcError("InvalidRequest", f"Invalid value for '{key}'.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RpcError("InvalidRequest", f"Invalid value for '{key}'.") from None


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


def _str_list(value: Any) -> list[str] | None:
    """A tag list; booleans (cmon-proxy's `with_tags: true`) mean "no filter"."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and value:
        return [value]
    return None


def _page(items: list[Any], body: dict[str, Any]) -> list[Any]:
    offset = _int(body, "offset", 0) or 0
    limit = _int(body, "limit", None)
    if offset < 0 or (limit is not None and limit < 0):
        raise RpcError("InvalidRequest", "Invalid limit or offset.")
    if limit is None or limit == 0:
        return items[offset:]
    return items[offset:offset + limit]


def _newest_first(body: dict[str, Any]) -> bool:
    order = body.get("order")
    if isinstance(order, str) and order.strip():
        return not order.strip().lower().endswith("asc")
    return not _flag(body, "ascending")


def _cluster_ids(call: Call) -> set[int] | None:
    """Clusters selected by cluster_id / cluster_ids / cluster_name; None = all.

    cluster_id 0 means "controller level" in cmon; for list operations that
    read as "all clusters" we treat it like an absent id (see callers).
    """
    body = call.body
    data = call.data
    if isinstance(body.get("cluster_ids"), list):
        try:
            return {int(x) for x in body["cluster_ids"]}
        except (TypeError, ValueError):
            raise RpcError("InvalidRequest", "Invalid value for 'cluster_ids'.") from None
    name = body.get("cluster_name")
    if isinstance(name, str) and name:
        for cl in data.clusters:
            if cl["cluster_name"] == name:
                return {cl["cluster_id"]}
        raise RpcError("ObjectNotFound",
                       f"No CmonCluster instance is available for cluster {name}.")
    cid = _int(body, "cluster_id", None)
    if cid is None or cid == 0:
        return None
    if data.cluster(cid) is None:
        raise RpcError("ObjectNotFound", CLUSTER_NOT_FOUND)
    return {cid}


# -- /v2/auth ----------------------------------------------------------------------------------
def op_authenticate_with_password(call: Call) -> Reply:
    body = call.body
    name = body.get("user_name", body.get("username", ""))
    password = body.get("password", "")
    user = None
    if isinstance(name, str) and isinstance(password, str):
        user = call.ctl.find_user(name, password, _flag(body, "ldap_only"))
    if user is None:
        # No cookie on failure (reference §2.2).
        return Reply("AccessDenied", "Username or password is incorrect.")
    return _logged_in(call, user)


def _logged_in(call: Call, user: User) -> Reply:
    """A new session for ``user``: the reply of every successful login (reference §2.1)."""
    sess = call.ctl.login(user)
    return Reply(payload={"is_superuser": user.superuser,
                          "user": user.record(iso(sess.login_time))},
                 set_cookie=sess.sid)


def op_logout(call: Call) -> Reply:
    if call.session is not None:
        call.ctl.drop_session(call.session)
    return Reply(set_cookie="")


def op_key_challenge(call: Call) -> Reply:
    """Step 1 of a key-based login (reference §2.3): a challenge to sign."""
    name = call.body.get("user_name", call.body.get("username", ""))
    user = call.ctl.find_static_user(name) if isinstance(name, str) else None
    if user is None:
        return Reply("AccessDenied", "Username or password is incorrect.")
    sid, challenge = call.ctl.challenge(user)
    return Reply(payload={"challenge": challenge, "user_name": user.user_name},
                 set_cookie=sid)


def op_key_response(call: Call) -> Reply:
    """Step 2: the signed challenge, on the cookie step 1 set."""
    pending = call.ctl.pending_challenge(call.sids)
    if pending is None:
        return Reply("InvalidRequest", "Unexpected request 'authenticateResponse' in state ''")
    user, challenge = pending
    signature = call.body.get("signature")
    try:
        raw = base64.b64decode(signature, validate=True) if isinstance(signature, str) else b""
    except ValueError:
        raw = b""
    if not raw or not keys.verify(challenge, raw) or call.ctl.faults.wrong_credentials:
        return Reply("AccessDenied", "Signature verification failed.")  # no cookie (§2.2)
    return _logged_in(call, user)


# -- /v2/users, /v2/info, /v2/poolcontrollers ---------------------------------------------------
def op_who_am_i(call: Call) -> Reply:
    assert call.session is not None
    sess = call.session
    payload: dict[str, Any] = {"user": sess.user.record(iso(sess.login_time))}
    if _flag(call.body, "with_extended_privileges"):
        payload["user_extended_privileges"] = {"class_name": "CmonExtendedPrivileges",
                                               "can_create_clusters": True,
                                               "can_execute_jobs": True}
    return Reply(payload=payload)


def op_info_ping(call: Call) -> Reply:
    data = call.data
    return Reply(payload={"pool_id": data.controller_id, "package_name": "cmon",
                          "package_version": data.version, "rpc_version": "2.0",
                          "authenticated": call.session is not None})


def op_list_controllers(call: Call) -> Reply:
    data = call.data
    controllers: list[dict[str, Any]] = []
    if "pool_int_clusters" in data.quirks:
        # Integers where cmon-proxy's Go struct expects strings (reference §3.3).
        controllers.append({"controller_id": 1, "hostname": data.ip, "port": call.ctl.port,
                            "status": "standalone", "report_ts": iso(time.time()),
                            "clusters": [c["cluster_id"] for c in data.clusters],
                            "properties": "full_controller"})
    return Reply(payload={"pool_id": data.controller_id,
                          "full_controller_id": data.controller_id,
                          "total": len(controllers), "controllers": controllers})


# -- /v2/clusters --------------------------------------------------------------------------------
def op_cluster_ping(call: Call) -> Reply:
    data = call.data
    cid = _int(call.body, "cluster_id", 0)
    if cid and data.cluster(cid) is None:
        raise RpcError("InvalidRequest", f"Configuration {cid} was not found.")
    return Reply(payload={"authenticated": True, "package_name": "cmon",
                          "package_version": data.version,
                          "package_bugreport": "support@severalnines.com",
                          "rpc_version": "2.0"})


def _cluster_view(cl: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in cl.items() if k != "hosts"}
    if _flag(body, "with_hosts"):
        out["hosts"] = cl["hosts"]
    if _flag(body, "with_sheet_info"):
        cid = cl["cluster_id"]
        out["info"] = {"cmon.hostname": cl["hosts"][-1]["hostname"], "cmon.domainname": "",
                       f"cluster.{cid}.hosts": len(cl["hosts"]) - 1,
                       f"cluster.{cid}.state": cl["state"]}
    if _flag(body, "with_databases"):
        out["databases"] = [{"class_name": "CmonDataBase", "cluster_id": cl["cluster_id"],
                             "database_name": name, "number_of_tables": 10 + i * 7,
                             "database_size": (i + 1) * 73400320}
                            for i, name in enumerate(("app", "audit"))]
    return out


def op_get_all_cluster_info(call: Call) -> Reply:
    body = call.body
    with_tags = _str_list(body.get("with_tags"))
    without_tags = _str_list(body.get("without_tags"))
    clusters = []
    for cl in call.data.clusters:
        if with_tags and not set(with_tags) & set(cl["tags"]):
            continue
        if without_tags and set(without_tags) & set(cl["tags"]):
            continue
        clusters.append(_cluster_view(cl, body))
    payload: dict[str, Any] = {"total": len(clusters)}
    if clusters:  # a controller without clusters omits the key (reference §4.1)
        payload["clusters"] = clusters
    if _flag(body, "with_license_check"):
        payload["license"] = call.data.license
        payload["license_check"] = call.data.license_check
    return Reply(payload=payload)


def op_get_cluster_info(call: Call) -> Reply:
    body = call.body
    name = body.get("cluster_name")
    if isinstance(name, str) and name:
        ids = _cluster_ids(Call(call.ctl, call.module, call.path, {"cluster_name": name}, None))
        cl = call.data.cluster(next(iter(ids or {0})))
    else:
        cl = call.data.cluster(_int(body, "cluster_id", 0) or 0)
        if cl is None:
            raise RpcError("InvalidRequest", CLUSTER_NOT_FOUND)
    assert cl is not None
    return Reply(payload={"cluster": _cluster_view(cl, body)})


# -- /v2/alarm -----------------------------------------------------------------------------------
def op_get_alarms(call: Call) -> Reply:
    ids = _cluster_ids(call)
    alarms: list[Any] = [a for a in call.data.alarms if ids is None or a["cluster_id"] in ids]
    if "null_alarm" in call.data.quirks and alarms:
        alarms.insert(len(alarms) // 2, None)  # cmon has been seen to send these
    cid = _int(call.body, "cluster_id", 0) or 0
    return Reply(payload={"cluster_id": cid, "alarms": alarms})


def op_alarm_statistics(call: Call) -> Reply:
    ids = _cluster_ids(call)
    stats = [c["alarm_statistics"] for c in call.data.clusters
             if ids is None or c["cluster_id"] in ids]
    return Reply(payload={"alarm_statistics": stats})


# -- /v2/jobs ------------------------------------------------------------------------------------
def _job_selection(call: Call) -> list[dict[str, Any]]:
    body = call.body
    source = call.data.schedules if _flag(body, "show_scheduled") else call.data.jobs
    cid = _int(body, "cluster_id", None)
    if cid == 0 and "cluster_ids" not in body and not body.get("cluster_name"):
        ids: set[int] | None = {0}  # controller-level jobs only
    else:
        ids = _cluster_ids(call)
    tags = _str_list(body.get("tags"))
    jobs = [j for j in source
            if (ids is None or j["cluster_id"] in ids)
            and (not tags or set(tags) <= set(j.get("tags") or ()))]
    if _newest_first(body):
        jobs.reverse()
    return jobs


def op_get_job_instances(call: Call) -> Reply:
    jobs = _job_selection(call)
    return Reply(payload={"total": len(jobs), "jobs": _page(jobs, call.body)})


def op_get_job_instance(call: Call) -> Reply:
    job_id = _int(call.body, "job_id", None)
    if job_id is None:
        raise RpcError("InvalidRequest", "Missing argument 'job_id'.")
    for job in (*call.data.jobs, *call.data.schedules):
        if job["job_id"] == job_id:
            return Reply(payload={"total": 1, "job": job})
    raise RpcError("ObjectNotFound", f"Job instance {job_id} was not found.")


# -- /v2/backup ----------------------------------------------------------------------------------
def _v1_record(rec: dict[str, Any]) -> dict[str, Any]:
    loc = rec["host_locations"][0] if rec["host_locations"] else {}
    flat = dict(rec["metadata"])
    flat["storage_host"] = loc.get("storage_host", "")
    flat["root_dir"] = loc.get("root_dir", "")
    flat["config"] = {}
    flat["version"] = 1
    return flat


def op_get_backups(call: Call) -> Reply:
    body = call.body
    ids = _cluster_ids(call)
    parent = _int(body, "parent_id", None)
    records = [b for b in call.data.backups
               if (ids is None or b["metadata"]["cid"] in ids)
               and (parent is None or b["metadata"]["parent_id"] == parent)]
    if _newest_first(body):
        records.reverse()
    page = _page(records, body)
    if _int(body, "backup_record_version", 1) != 2:
        page = [_v1_record(r) for r in page]
    return Reply(payload={"total": len(records), "backup_records": page})


def op_get_backup_schedules(call: Call) -> Reply:
    ids = _cluster_ids(call)
    out = [{"class_name": "CmonBackupSchedule", "id": s["job_id"], "cluster_id": s["cluster_id"],
            "enabled": s["status"] == "SCHEDULED", "schedule": s["recurrence"],
            "job": s["job_spec"], "created": s["created"], "status": s["status"]}
           for s in call.data.schedules if ids is None or s["cluster_id"] in ids]
    return Reply(payload={"total": len(out), "backup_schedules": out})


# -- /v2/log, /v2/audit ---------------------------------------------------------------------------
def op_get_log_entries(call: Call) -> Reply:
    body = call.body
    ids = _cluster_ids(call)
    min_sev = body.get("severity")
    rank = LOG_SEVERITIES.index(min_sev) if min_sev in LOG_SEVERITIES else 0
    after = body.get("created_after") or ""
    before = body.get("created_before") or ""
    # ISO timestamps of one format compare correctly as strings.
    entries = [e for e in call.data.logs
               if (ids is None or e["log_specifics"]["cluster_id"] in ids)
               and LOG_SEVERITIES.index(e["severity"]) >= rank
               and (not after or e["created"] >= after)
               and (not before or e["created"] < before)]
    if _newest_first(body):
        entries.reverse()
    return Reply(payload={"total": len(entries), "log_entries": _page(entries, body)})


def op_get_audit_entries(call: Call) -> Reply:
    ids = _cluster_ids(call)
    entries = [e for e in call.data.audit if ids is None or e["cluster_id"] in ids]
    if _newest_first(call.body):
        entries.reverse()
    return Reply(payload={"total": len(entries), "audit_entries": _page(entries, call.body)})


# -- dispatch table ------------------------------------------------------------------------------
# (module, lower-case operation) -> (handler, cacheable)
OPERATIONS: dict[tuple[str, str], tuple[Operation, bool]] = {
    ("auth", "authenticatewithpassword"): (op_authenticate_with_password, False),
    ("auth", "logout"): (op_logout, False),
    ("auth", "authenticate"): (op_key_challenge, False),
    ("auth", "authenticateresponse"): (op_key_response, False),
    ("users", "whoami"): (op_who_am_i, False),
    ("info", "ping"): (op_info_ping, False),
    ("poolcontrollers", "listcontrollers"): (op_list_controllers, False),
    ("clusters", "ping"): (op_cluster_ping, False),
    ("clusters", "getallclusterinfo"): (op_get_all_cluster_info, True),
    ("clusters", "getclusterinfo"): (op_get_cluster_info, True),
    ("alarm", "getalarms"): (op_get_alarms, True),
    ("alarm", "getstatistics"): (op_alarm_statistics, True),
    ("jobs", "getjobinstances"): (op_get_job_instances, True),
    ("jobs", "getjobinstance"): (op_get_job_instance, True),
    ("backup", "getbackups"): (op_get_backups, True),
    ("backup", "getbackupschedules"): (op_get_backup_schedules, True),
    ("log", "getlogentries"): (op_get_log_entries, True),
    ("audit", "getentries"): (op_get_audit_entries, True),
}
NO_SESSION_MODULES = frozenset({"auth", "info"})


# -- request parsing -----------------------------------------------------------------------------
def strip_prefix(ctl: ControllerState, target: str) -> str | None:
    """The request path below the controller's prefix; None when outside it."""
    path = target.split("?", 1)[0]
    if ctl.prefix:
        if path != ctl.prefix and not path.startswith(ctl.prefix + "/"):
            return None
        path = path[len(ctl.prefix):]
    return path


def route(ctl: ControllerState, target: str) -> tuple[str | None, str]:
    """(module, canonical path) for a request target; module None = not an RPC path."""
    path = strip_prefix(ctl, target)
    if path is None:
        return None, target.split("?", 1)[0]
    parts = [p for p in path.split("/") if p]  # tolerates trailing and doubled slashes
    if not parts or parts[0] != "v2":
        return None, path
    if len(parts) == 1:
        return "info", "/v2/info"  # bare /v2 is /v2/info on current controllers
    if len(parts) > 2:
        return "/".join(parts[1:]), "/" + "/".join(parts)
    return parts[1], f"/v2/{parts[1]}"


def parse_body(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """(body, operation); body None = not a JSON object."""
    if not raw.strip():
        return {}, ""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    op = body.get("operation", "")
    return body, op if isinstance(op, str) else ""


def session_ids(cookie_headers: Iterable[str]) -> list[str]:
    """Every cmon-sid value in the Cookie headers. Lenient on purpose: cmon-proxy
    sends Go's Set-Cookie form (`cmon-sid=x; Path=/; HttpOnly; Secure`)."""
    out = []
    for header in cookie_headers:
        for part in header.replace(",", ";").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name.strip() == "cmon-sid" and value.strip():
                out.append(value.strip().strip('"'))
    return out


# -- the envelope ----------------------------------------------------------------------------------
def http_status(ctl: ControllerState, status: str) -> int:
    mode = ctl.faults.status_codes
    if mode == "always200":
        return 200
    if mode == "mirror":
        return MIRROR_CODES.get(status, 200)
    return 401 if status == "AuthRequired" else 200


def render(ctl: ControllerState, reply: Reply, body: dict[str, Any] | None,
           session: Session | None) -> bytes:
    env: dict[str, Any] = {"request_status": reply.status}
    if reply.error is not None:
        env["error_string"] = reply.error
    env["controller_id"] = ctl.data.controller_id
    if body:
        for key in ("request_id", "request_created"):
            if key in body:
                env[key] = body[key]
    env["request_processed"] = iso(time.time())
    if session is not None:
        env["request_user_id"] = session.user.user_id
        env["debug_messages"] = [f"RPC V2 authenticated user is '{session.user.user_name}'."]
    env.update(reply.extra)
    head = json.dumps(env, separators=(",", ":")).encode()
    fragment = reply.fragment
    if fragment is None and reply.payload:
        fragment = json.dumps(reply.payload, separators=(",", ":")).encode()[1:-1]
    if not fragment:
        return head
    return head[:-1] + b"," + fragment + b"}"


def base_headers(ctl: ControllerState) -> Headers:
    return [("Server", f"cmon/{ctl.data.version}"), ("Content-Type", "application/json")]


def cookie_header(sid: str) -> tuple[str, str]:
    if not sid:
        return ("Set-Cookie", "cmon-sid=; Path=/; Max-Age=0; HttpOnly; Secure")
    return ("Set-Cookie", f"cmon-sid={sid}; Path=/; HttpOnly; Secure")


def handle(ctl: ControllerState, module: str, path: str, body: dict[str, Any] | None,
           operation: str, cookies: list[str],
           raw_path: str | None = None) -> tuple[int, Headers, bytes]:
    """Answer one RPC request whose body was parsed with `parse_body`.

    `path` is the canonical "/v2/<module>"; `raw_path` what the client sent
    (after the prefix), reported in `request_path` of error replies.
    """
    session = None
    for sid in session_ids(cookies):
        session = ctl.session(sid)
        if session is not None:
            break
    if session is not None:  # who called: tests check whose controller session was used
        ctl.callers[(path, session.user.user_name)] += 1
    reply = _dispatch(ctl, module, path, body, operation, session, raw_path or path,
                      tuple(session_ids(cookies)))
    if module == "auth" and reply.set_cookie:
        session = ctl.sessions.get(reply.set_cookie)
    elif module == "auth" and reply.set_cookie == "":
        session = None
    headers = base_headers(ctl)
    if reply.set_cookie is not None:
        headers.append(cookie_header(reply.set_cookie))
    elif session is not None and "rotate_sid" in ctl.data.quirks:
        session.replies += 1
        if session.replies % 5 == 0:  # cmon may rotate the cookie at will (reference §1.7)
            headers.append(cookie_header(ctl.rotate(session)))
    status = reply.http_status or http_status(ctl, reply.status)
    return status, headers, render(ctl, reply, body, session)


def error_reply(ctl: ControllerState, status: str, message: str, http_code: int,
                body: dict[str, Any] | None = None) -> tuple[int, Headers, bytes]:
    """A bare error envelope (bad paths, unreadable requests, injected failures)."""
    return http_code, base_headers(ctl), render(ctl, Reply(status, message), body, None)


def _dispatch(ctl: ControllerState, module: str, path: str, body: dict[str, Any] | None,
              operation: str, session: Session | None, raw_path: str = "",
              sids: tuple[str, ...] = ()) -> Reply:
    if module not in NO_SESSION_MODULES and session is None:
        return Reply("AuthRequired", "Authentication required.")
    if body is None:
        return Reply("InvalidRequest", "The request is not a valid JSON object.")
    op_key = (module, operation.lower())
    entry = OPERATIONS.get(op_key)
    if entry is None:
        if module == "auth":
            return Reply("InvalidRequest", f"Unexpected request '{operation}' in state ''")
        return Reply("InvalidRequest", f"Invalid operation '{operation}' on '{path}'.",
                     extra={"request_operation": operation,
                            "request_path": [p for p in (raw_path or path).split("/") if p]})
    handler, cacheable = entry
    blocked = _cluster_fault(ctl, module, body)
    if blocked is not None:
        return blocked
    call = Call(ctl, module, path, body, session, sids)
    key = None
    if cacheable:
        params = {k: v for k, v in body.items() if k not in ECHO_KEYS}
        key = (module, op_key[1], json.dumps(params, sort_keys=True, default=str))
        fragment = ctl.cached(key)
        if fragment is not None:
            return Reply(fragment=fragment)
    try:
        reply = handler(call)
    except RpcError as exc:
        return Reply(exc.status, exc.message)
    if key is not None and reply.status == "Ok" and reply.payload is not None:
        reply.fragment = json.dumps(reply.payload, separators=(",", ":")).encode()[1:-1]
        reply.payload = None
        ctl.store(key, reply.fragment)
    return reply


CLUSTER_SCOPED = frozenset({"clusters", "alarm", "jobs", "backup", "log", "audit"})


def _cluster_fault(ctl: ControllerState, module: str, body: dict[str, Any]) -> Reply | None:
    """AccessDenied / ObjectNotFound for requests naming a denied or missing cluster."""
    faults = ctl.faults
    if module not in CLUSTER_SCOPED or not (faults.denied_clusters or faults.missing_clusters):
        return None
    ids = body.get("cluster_ids")
    named: set[int] = set()
    for value in [body.get("cluster_id"), *(ids if isinstance(ids, list) else [])]:
        with contextlib.suppress(TypeError, ValueError):
            named.add(int(value))
    if named & set(faults.missing_clusters or ()):
        return Reply("ObjectNotFound", CLUSTER_NOT_FOUND)
    if named & set(faults.denied_clusters or ()):
        return Reply("AccessDenied", "Access denied.")
    return None


def warm(ctl: ControllerState, requests: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Pre-serialise replies a cmon-proxy-like client asks for first, so that even
    the first (cold) request is a cache hit."""
    for module, body in requests:
        _dispatch(ctl, module, f"/v2/{module}", dict(body), body["operation"], _WARM_SESSION)


class _WarmSession:
    """Stands in for a session while warming; cacheable operations never read it."""

    user = None


_WARM_SESSION: Any = _WarmSession()

# cmon-proxy's exact getAllClusterInfo request (reference §4.1).
PROXY_REQUESTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("clusters", {"operation": "getAllClusterInfo", "with_hosts": True,
                  "with_license_check": True, "with_tags": True}),
)
