"""The OpenAPI 3 description of ccmgr's HTTP API, served at GET /openapi.json.

Built from small schema pieces so the list endpoints share one definition. A test checks
that every route of the app is described and that the document validates; schemathesis
checks real replies against it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ccmgr import __version__
from ccmgr.config.schema import INSTANCE_FIELDS

REF = "#/components/schemas/"


def _ref(name: str) -> dict:
    return {"$ref": REF + name}


def _obj(props: dict, required: tuple[str, ...] = (), extra: Any = False) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": props,
                              "additionalProperties": extra}
    if required:
        schema["required"] = list(required)
    return schema


STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
COUNTS = {"type": "object", "additionalProperties": INT}
STAMP = {"type": "string", "description": "RFC 3339, second precision; \"\" when unknown"}
_TYPES = {str: STR, bool: BOOL, int: INT}

LIST_ENDPOINTS = {
    "/proxy/clusters/list": ("clusters", "Cluster", "Clusters of every controller."),
    "/proxy/clusters/hosts": ("hosts", "Host", "Database hosts (controller hosts excluded)."),
    "/proxy/clusters/missingSchedules": ("clusters", "Cluster",
                                         "Clusters without a scheduled backup job."),
    "/proxy/alarms/list": ("alarms", "Item", "Alarms of every cluster."),
    "/proxy/jobs/list": ("jobs", "Item", "Jobs of the last fetch_jobs_hours."),
    "/proxy/backups/list": ("backups", "Item", "Backups of the last fetch_backups_days."),
    "/proxy/backups/schedules": ("jobs", "Item", "Scheduled backup jobs."),
    "/proxy/logs/list": ("logs", "Item", "Cluster log entries (100 per cluster)."),
    "/proxy/audit/list": ("entries", "Item", "Audit entries (100 per cluster)."),
}
STATUS_ENDPOINTS = {
    "/proxy/clusters/status": ("ClustersStatus", "Cluster and node states per controller "
                                                 "and cluster type."),
    "/proxy/alarms/status": ("AlarmsStatus", "Alarm counts by severity and type."),
    "/proxy/jobs/status": ("JobsStatus", "Job counts by status and command."),
    "/proxy/backups/status": ("BackupsStatus", "Backup counts and schedule coverage."),
}


def _nullable(schema: dict) -> dict:
    """A request object whose fields may be null: ccmgr takes null as absent, as
    cmon-proxy's Go decoding does (the document said otherwise: schemathesis ST201)."""
    props = {name: {**prop, "nullable": True} if "type" in prop else prop
             for name, prop in schema["properties"].items()}
    return {**schema, "properties": props}


# perPage > 0 needs page >= 1 (views/listrequest.py); an API rule the fields alone miss.
PAGE_RULE = {"anyOf": [
    {"not": {"required": ["perPage"]}},
    {"properties": {"perPage": {"type": "integer", "maximum": 0, "nullable": True}}},
    {"required": ["page"], "properties": {"page": {"type": "integer", "minimum": 1}}},
]}
# ccmgr/users.py: check_profile; fields clients echo from /auth/check are ignored.
PROFILE_USER = {"type": "object", "additionalProperties": False, "required": ["username"],
                "properties": {
                    "username": {"type": "string", "pattern": "^[A-Za-z0-9._@+-]{1,64}$"},
                    "email": {"type": "string", "maxLength": 256, "pattern": "^$|@",
                              "nullable": True},
                    "firstname": {"type": "string", "maxLength": 256, "nullable": True},
                    "lastname": {"type": "string", "maxLength": 256, "nullable": True},
                    **{name: {} for name in ("passwordhash", "ldap", "cmon", "xid", "admin",
                                             "suspended", "groups")}}}


def _schemas() -> dict:
    time_or_object = {"oneOf": [STR, _obj({"T": STR}, ("T",))]}
    proxy = {"xid": STR, "controller_id": STR, "controller_url": STR}
    user = _obj({k: t for k, t in (("username", STR), ("email", STR), ("firstname", STR),
                                   ("lastname", STR), ("ldap", BOOL), ("cmon", BOOL),
                                   ("xid", STR), ("admin", BOOL),
                                   ("role", {"type": "string", "enum": ["admin", "viewer"]}),
                                   ("token", STR))}, ("username",))
    filt = _nullable(_obj({"key": STR, "value": STR, "values": {"type": "array", "items": STR},
                           "matchall": {"type": "array", "items": STR}}))
    paging = {"page": {"type": "integer", "minimum": 0, "maximum": 1 << 31,
                       "description": "1-based; must be >= 1 when perPage is set"},
              "perPage": {"type": "integer", "minimum": 0, "maximum": 1 << 31,
                          "description": "0 = no paging"},
              "order": {"type": "string", "description": "\"<field> [desc]\""}}
    filters = {"type": "array", "items": _ref("Filter")}
    by_cluster_counts = _obj({"cluster_states": COUNTS, "clusters_count": COUNTS,
                              "nodes_count": COUNTS, "node_states": COUNTS})
    alarm_counts = _obj({"alarms_count": COUNTS, "alarm_types": COUNTS,
                         "by_cluster": {"type": "object", "additionalProperties": _obj(
                             {"alarms_count": COUNTS, "alarm_types": COUNTS})},
                         "by_controller": {"type": "object", "additionalProperties": _obj(
                             {"alarms_count": COUNTS, "alarm_types": COUNTS})}})
    job_counts = _obj({"job_count": COUNTS, "job_commands": COUNTS,
                       "by_controller": {"type": "object", "additionalProperties": _obj(
                           {"job_count": COUNTS, "job_commands": COUNTS})}})
    backup_counts = _obj({"backups_count": COUNTS, "missing_schedules": INT,
                          "schedules_count": INT,
                          "by_cluster_type": {"type": "object", "additionalProperties": _obj(
                              {"backups_count": COUNTS, "missing_schedules": INT,
                               "schedules_count": INT})}})
    return {
        "Envelope": _obj({"request_created": time_or_object,
                          "request_processed": time_or_object,
                          "request_status": STR, "error_string": STR, "user": _ref("User")},
                         ("request_created", "request_processed")),
        "Error": _obj({"type": STR, "message": STR}, ("type", "message")),
        "User": user,
        "Filter": filt,
        "ListRequest": {**_nullable(_obj({**paging, "filters": filters, "force_update": BOOL,
                                          "with_hosts": BOOL})), **PAGE_RULE},
        "StatusRequest": _nullable(_obj({"filters": filters, "force_update": BOOL})),
        "ControllersStatusRequest": _nullable(_obj({"force_update": BOOL,
                                                    "force_license_check": BOOL})),
        "Controller": _nullable(_obj({k: _TYPES[t] for k, t in INSTANCE_FIELDS.items()})),
        "ControllerRequest": _obj({"controller": _ref("Controller")}, ("controller",)),
        "ControllerStatus": _obj({
            "xid": STR, "controller_id": STR, "controller_name": STR, "url": STR,
            "frontend_url": STR, "version": STR, "status_message": STR, "ldap": BOOL,
            "login": {"type": "string", "enum": ["password", "keyfile", "ldap", "cmon"]},
            "status": {"type": "string", "enum": ["ok", "failed", "authentication-error"]},
            "last_updated": STAMP, "last_seen": STAMP,
            "license": {"type": "object", "nullable": True, "additionalProperties": True},
            "license_check": {"type": "object", "nullable": True,
                              "additionalProperties": True}},
            ("xid", "controller_id", "controller_name", "url", "version", "status_message",
             "status", "last_updated", "last_seen")),
        "Item": _obj(proxy, tuple(proxy), extra=True),
        "Cluster": _obj({**proxy, "cluster_id": INT, "cluster_name": STR, "cluster_type": STR,
                         "state": STR, "Key": STR,
                         "hosts": {"type": "array", "items": _ref("Host")}},
                        (*proxy, "cluster_id", "Key"), extra=True),
        "Host": _obj({"hostId": INT, "clusterid": INT, "hostname": STR, "port": INT,
                      "hoststatus": STR, "nodetype": STR, "role": STR}, extra=True),
        "ClustersStatus": _obj({
            "cluster_states": COUNTS, "node_states": COUNTS, "clusters_count": COUNTS,
            "nodes_count": COUNTS,
            "by_cluster_type": {"type": "object", "additionalProperties": by_cluster_counts},
            "by_controller": {"type": "object", "additionalProperties": _obj({
                "cluster_states": COUNTS, "node_states": COUNTS,
                "by_cluster": {"type": "object", "additionalProperties": _obj(
                    {"node_states": COUNTS})}})}}),
        "AlarmsStatus": _obj({"alarms_count": COUNTS, "alarm_types": COUNTS,
                              "by_controller": {"type": "object",
                                                "additionalProperties": alarm_counts},
                              "by_cluster_type": {"type": "object",
                                                  "additionalProperties": alarm_counts}},
                             ("alarms_count", "alarm_types")),
        "JobsStatus": _obj({"job_count": COUNTS, "job_commands": COUNTS,
                            "by_controller": {"type": "object",
                                              "additionalProperties": job_counts},
                            "by_cluster_type": {"type": "object",
                                                "additionalProperties": job_counts}},
                           ("job_count", "job_commands")),
        "BackupsStatus": _obj({"backups_count": COUNTS, "missing_schedules": INT,
                               "schedules_count": INT,
                               "by_cluster_type": {"type": "object",
                                                   "additionalProperties": backup_counts},
                               "by_controller": {"type": "object",
                                                 "additionalProperties": backup_counts}},
                              ("backups_count", "missing_schedules", "schedules_count")),
        "Health": _obj({"status": STR, "node": STR, "role": STR, "epoch": INT,
                        "generation": INT, "sha256": STR, "version": STR,
                        "warnings": {"type": "array", "items": STR},
                        "problems": {"type": "array", "items": STR}}, ("status",), extra=True),
    }


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERR = _ref("Error")
ENV = _ref("Envelope")
COMMON_ERRORS = {
    "400": _json(ERR, "Malformed request (error object)"),
    "413": _json(ERR, "Request body too large"),
}
GATED = {"401": _json(ENV, "Not logged in (AuthRequired envelope)"),
         "503": _json(ENV, "This node cannot serve (configuration unreadable)")}


def _body(name: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": _ref(name)}}}


def _op(summary: str, ok: dict, *, body: str | None = None, gated: bool = True,
        errors: dict | None = None, tag: str = "proxy") -> dict:
    responses = {"200": ok, **COMMON_ERRORS, **(GATED if gated else {}), **(errors or {})}
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if body:
        op["requestBody"] = _body(body)
    if not gated:
        op["security"] = []
    return op


def _get_post(summary: str, ok: dict, body: str, **kw: Any) -> dict:
    return {"get": _op(summary + " (GET: no body, no filters)", ok, **kw),
            "post": _op(summary, ok, body=body, **kw)}


def _list_reply(items_key: str, item: str) -> dict:
    return _obj({"page": INT, "perPage": INT, "total": INT,
                 items_key: {"type": "array", "items": _ref(item)},
                 "last_updated": {"type": "object", "additionalProperties": STR}},
                (items_key, "last_updated"))


# --- observability (issue 14): partial-result headers and /metrics ----------------------
PARTIAL_HEADERS = {
    "X-Ccmgr-Controllers": {"description": "<answered>/<total>: how many configured "
                            "controllers answered the fetches this reply was built from",
                            "schema": {"type": "string", "pattern": "^[0-9]+/[0-9]+$"}},
    "X-Ccmgr-Failed": {"description": "Comma-separated xids of the controllers that did not "
                       "answer (their part is older data or missing); absent when all did",
                       "schema": STR},
}


def _observability(paths: dict) -> None:
    for path in (*STATUS_ENDPOINTS, *LIST_ENDPOINTS):
        for op in paths[path].values():
            op["responses"]["200"]["headers"] = dict(PARTIAL_HEADERS)
    paths["/metrics"] = {"get": {
        "summary": "Prometheus metrics of this node (docs/observability.md)",
        "tags": ["ops"], "security": [{"metricsToken": []}, {"sid": []}],
        "responses": {
            "200": {"description": "Prometheus text exposition format",
                    "content": {"text/plain": {"schema": STR}}},
            "401": _json(ENV, "Neither the node's metrics token nor a session")}}}


@cache
def document() -> dict:
    env_reply = _json(ENV, "Reply envelope")
    ctl_reply = _json(_obj({"controller": _ref("ControllerStatus")}, ("controller",)),
                      "The controller's status after a login test (never a password)")
    paths: dict[str, Any] = {
        "/health": {"get": _op("Node health for load balancers", _json(
            _ref("Health"), "Serving"), gated=False, tag="ops", errors={
            "503": _json(_ref("Health"), "Cannot serve")})},
        "/proxy/ha/status": {m: _op("Node health plus peers, for logged-in users", _json(
            _ref("Health"), "Serving"), tag="ops", errors={
            "503": _json({"oneOf": [_ref("Health"), ENV]}, "Cannot serve")})
            for m in ("get", "post")},
        "/openapi.json": {"get": _op("This document", _json(
            {"type": "object", "additionalProperties": True}, "OpenAPI 3"), gated=False,
            tag="ops")},
        "/proxy/auth/login": {"post": _op(
            "Log in (local user, else forwarded to LDAP controllers)", env_reply,
            body="LoginRequest", gated=False, tag="auth",
            errors={"401": _json(ENV, "Wrong credentials"),
                    "429": _json(ENV, "Too many failed attempts")})},
        "/proxy/auth/check": {m: _op("The session's user", env_reply, gated=False, tag="auth",
                                     errors={"401": _json(ENV, "Not logged in")})
                              for m in ("get", "post")},
        "/proxy/auth/logout": {m: _op("End the session", env_reply, gated=False, tag="auth")
                               for m in ("get", "post")},
        "/proxy/auth/update": {"post": _op("Update the own profile", env_reply,
                                           body="ProfileRequest", gated=False, tag="auth",
                                           errors={"400": _json({"oneOf": [ERR, ENV]},
                                                                "Malformed request (error "
                                                                "object) or refused profile "
                                                                "(envelope)"),
                                                   "401": _json(ENV, "Not logged in or "
                                                                     "wrong username")})},
        "/proxy/auth/setpassword": {"post": _op(
            "Change the own password", env_reply, body="PasswordRequest", gated=False,
            tag="auth", errors={"401": _json(ENV, "Not logged in or wrong old password"),
                                "429": _json(ENV, "Too many failed attempts")})},
        "/proxy/admin/reload": {m: _op("Re-read ccmgr.yaml", env_reply, gated=False,
                                       tag="ops", errors={"401": _json(ENV, "Not allowed")})
                                for m in ("get", "post")},
        "/proxy/controllers/status": _get_post(
            "Status, version and license of every controller",
            _json(_obj({"controllers": {"type": "array", "items": _ref("ControllerStatus")}},
                       ("controllers",)), "Statuses"), "ControllersStatusRequest"),
        "/proxy/controllers/test": {"post": _op("Test a controller's credentials",
                                                ctl_reply, body="ControllerRequest")},
        "/proxy/controllers/add": {"post": _op(
            "Add a controller (also when it is unreachable)", ctl_reply,
            body="ControllerRequest", errors={
                "403": _json(ERR, "LDAP users cannot add controllers"),
                "425": _json(ERR, "duplicated URL")})},
        "/proxy/controllers/update": {"post": _op(
            "Replace a controller, identified by xid", ctl_reply, body="ControllerRequest",
            errors={"403": _json(ERR, "LDAP users cannot update controllers"),
                    "404": _json(ERR, "Controller not found"),
                    "425": _json(ERR, "duplicated URL")})},
        "/proxy/controllers/remove": {"post": _op(
            "Remove a controller by xid (or url)", _json(ERR, "{type: Ok, message}"),
            body="RemoveRequest", errors={
                "403": _json(ERR, "LDAP users cannot remove controllers"),
                "404": _json(ERR, "controller not found")})},
    }
    for path, (name, summary) in STATUS_ENDPOINTS.items():
        paths[path] = _get_post(summary, _json(_ref(name), "Counts"), "StatusRequest")
    for path, (key, item, summary) in LIST_ENDPOINTS.items():
        paths[path] = _get_post(summary, _json(_list_reply(key, item), "One page"),
                                "ListRequest")
    _observability(paths)
    schemas = _schemas()
    schemas["LoginRequest"] = _nullable(_obj({"username": STR, "password": STR,
                                              "ldap_only": BOOL}))
    schemas["ProfileUser"] = PROFILE_USER
    schemas["ProfileRequest"] = _obj({"user": _ref("ProfileUser")}, ("user",))
    schemas["PasswordRequest"] = _nullable(_obj({"old_password": STR, "new_password": STR}))
    schemas["RemoveRequest"] = {**_nullable(_obj({"xid": STR, "url": STR,
                                                  "controllerXid": STR})),
                                "anyOf": [{"required": [k], "properties": {k: {
                                    "type": "string", "minLength": 1}}}
                                          for k in ("xid", "url", "controllerXid")]}
    _issue13_additions(paths, schemas)
    return {
        "openapi": "3.0.3",
        "info": {"title": "ccmgr (ClusterControl Manager)", "version": __version__,
                 "description": "One HTTPS API over many ClusterControl controllers, "
                                "compatible with cmon-proxy's /proxy API."},
        "servers": [{"url": "/"}],
        "security": [{"sid": []}, {"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "sid": {"type": "apiKey", "in": "cookie", "name": "sid"},
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "An API token (ccmgradm token create)"},
            "metricsToken": {"type": "http", "scheme": "bearer",
                             "description": "<basedir>/metrics.token of the node"}}},
    }


# -- issue 13: pass-through, /proxy/config, viewer refusals (kept in one block) ------------
VIEWER_DENIED = "Read-only account (role viewer)"
PASSTHROUGH_NOTE = ("Forwarded as a POST of /v2/<rpc> with the session's identity; the "
                    "body, or when it is shorter than 2 bytes the query string, is sent "
                    "unchanged.")


def _issue13_additions(paths: dict, schemas: dict) -> None:
    from ccmgr.resources.passthrough import RPC_PATH  # the one statement of the rule

    for path in ("/proxy/controllers/test", "/proxy/controllers/add",
                 "/proxy/controllers/update", "/proxy/controllers/remove"):
        responses = paths[path]["post"]["responses"]
        old = responses.get("403", {}).get("description")
        responses["403"] = _json(ERR, f"{old}; or {VIEWER_DENIED}" if old else VIEWER_DENIED)
    for method in ("get", "post"):
        paths["/proxy/admin/reload"][method]["responses"]["403"] = _json(ENV, VIEWER_DENIED)
    paths["/proxy/config"] = {m: _op("Collection windows (fetch_jobs_hours, "
                                     "fetch_backups_days)", _json(
        _obj({"config": _obj({"fetch_backups_days": INT, "fetch_jobs_hours": INT})},
             ("config",)), "The settings"), tag="proxy") for m in ("get", "post")}
    rpc = {"name": "rpc", "in": "path", "required": True,
           "schema": {"type": "string", "pattern": RPC_PATH},
           "description": "The cmon RPC path below /v2/, e.g. clusters or jobs"}
    # GET carries the routing in the query string (controller_id works too, as in a POST
    # body; the schema names xid, the form clients use).
    xid_query = {"name": "xid", "in": "query", "required": True,
                 "schema": {"type": "string", "minLength": 5},
                 "description": "The controller's xid (or pass controller_id instead)"}
    any_object = {"type": "object", "additionalProperties": True}
    errors = {"403": _json(ENV, VIEWER_DENIED),
              "404": _json(ENV, "Unknown controller, or no reply from it (UnknownError)"),
              "502": {"description": "The controller's reply was not JSON (relayed as is)"}}
    one = {}
    many = {}
    for method in ("get", "post"):
        one[method] = _op("One RPC to one controller, chosen by xid or controller_id",
                          _json(any_object, "The controller's reply plus xid"),
                          tag="pass-through", errors=errors)
        many[method] = _op("One RPC to many controllers (xids, empty = all)",
                           _json({"type": "object", "additionalProperties": any_object},
                                 "xid -> reply"), tag="pass-through",
                           errors={"403": errors["403"]})
        for op in (one[method], many[method]):
            op["parameters"] = [rpc, xid_query] if op is one["get"] else [rpc]
            op["description"] = PASSTHROUGH_NOTE
            op["responses"]["400"] = _json({"oneOf": [ENV, ERR]}, "Malformed request")
        if method == "post":
            # Without a body the query string is the body, and it has no routing then.
            one[method]["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _ref("RpcRequest")}}}
            many[method]["requestBody"] = {"required": False, "content": {
                "application/json": {"schema": _ref("RpcMultiRequest")}}}
        else:
            many[method]["parameters"] = [rpc, {"name": "xids", "in": "query",
                                                "required": False, "schema": STR,
                                                "description": "comma-separated xids"}]
    paths["/v2/{rpc}"] = one
    paths["/v2multi/{rpc}"] = many
    # The rest of the body is the controller's business: ccmgr forwards it unread.
    schemas["RpcRequest"] = {
        **_obj({"xid": {"type": "string", "minLength": 5},
                "controller_id": {"type": "string", "minLength": 1}}, extra=True),
        "anyOf": [{"required": ["xid"]}, {"required": ["controller_id"]}]}
    # xids: a list, or a comma-separated string as in ?xids=a,b; null or absent = all.
    schemas["RpcMultiRequest"] = _obj({"xids": {
        "anyOf": [{"type": "array", "items": STR}, {"type": "string"}], "nullable": True}},
        extra=True)
