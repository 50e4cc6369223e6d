"""Keys, defaults and validation of ccmgr.yaml (cmon-proxy spec §1.2-§1.6, design.md §2).

Loading never changes the file: defaults are applied in memory and materialised only
when the store writes. Unknown keys are kept and written back untouched, so a
cmon-proxy file round-trips. Every problem names its key (``instances[2].url``).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import os
import socket
from dataclasses import dataclass
from typing import Any

from ccmgr.config.model import (
    ADMIN_ROLE,
    DEFAULT_CACHE_TTL,
    DEFAULT_FETCH_BACKUPS_DAYS,
    DEFAULT_FETCH_CONCURRENCY,
    DEFAULT_FETCH_JOBS_HOURS,
    DEFAULT_PORT,
    DEFAULT_REPLICATION_WAIT,
    DEFAULT_SAMESITE,
    DEFAULT_SESSION_TTL,
    DEFAULT_TIMEOUT,
    NS_PER_S,
    VIEWER_ROLE,
    Instance,
    NodeSettings,
    Peer,
    User,
    field_types,
)
from ccmgr.errors import ConfigError
from ccmgr.fields import type_name, type_ok

ROLES = ("primary", "secondary")
USER_ROLES = (ADMIN_ROLE, VIEWER_ROLE)  # users[].role (ccmgr.users.ROLES)
SAMESITE = ("Strict", "Lax", "None")
LOG_FORMATS = ("text", "json")

# Keys that travel between nodes (design.md §2) and the ones that stay on a node.
SHARED_KEYS = (
    "fetch_jobs_hours", "fetch_backups_days", "instances", "timeout", "users",
    "session_ttl", "single_controller", "session_samesite", "replication_wait",
    "fetch_concurrency", "cache_ttl", "tokens", "cors_origins",
)
LOCAL_KEYS = (
    "filename", "webapproot", "logfile", "frontend_path", "port", "tls_cert", "tls_key",
    "bind_address", "node_name", "role", "peers", "trusted_proxies", "peer_ca_file",
    "log_format",
)
META_KEYS = ("generation", "epoch")

# Write order: cmon-proxy's struct order first (spec §1.6), then ours.
WRITE_ORDER = (
    "filename", "webapproot", "fetch_jobs_hours", "fetch_backups_days", "instances",
    "timeout", "logfile", "users", "frontend_path", "port", "tls_cert", "tls_key",
    "session_ttl", "single_controller", "session_samesite", "bind_address", "node_name",
    "role", "peers", "trusted_proxies", "peer_ca_file", "replication_wait",
    "fetch_concurrency", "cache_ttl", "tokens", "cors_origins", "log_format", "generation",
    "epoch",
)

# One list of fields per entity: the dataclass (config.model) declares them.
INSTANCE_FIELDS = field_types(Instance)
USER_FIELDS = field_types(User)
PEER_FIELDS = field_types(Peer)

def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Config:
    """One validated view of ccmgr.yaml: ``doc`` holds the file's keys plus defaults."""

    path: str
    doc: dict

    @property
    def basedir(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def _path(self, key: str, default_name: str) -> str:
        value = self.doc.get(key) or default_name
        return value if os.path.isabs(value) else os.path.join(self.basedir, value)

    @property
    def port(self) -> int:
        return self.doc["port"]

    @property
    def tls_cert(self) -> str:
        return self._path("tls_cert", "server.crt")

    @property
    def tls_key(self) -> str:
        return self._path("tls_key", "server.key")

    @property
    def logfile(self) -> str:
        return self._path("logfile", "ccmgr.log")

    @property
    def frontend_path(self) -> str:
        return self._path("frontend_path", "/app")

    # The entities, parsed on first use: once per file version, as the store hands out one
    # Config per version. Code that reads controllers or users reads these.
    @functools.cached_property
    def controllers(self) -> tuple[Instance, ...]:
        return tuple(Instance.parse(i) for i in self.doc["instances"])

    @functools.cached_property
    def controller_names(self) -> dict[str, str]:
        """xid -> name of every controller (the metrics' labels); not to be changed."""
        return {c.xid: c.name for c in self.controllers}

    @functools.cached_property
    def local_users(self) -> tuple[User, ...]:
        return tuple(User.parse(u) for u in self.doc["users"])

    @functools.cached_property
    def _users_by_name(self) -> dict[str, User]:
        return {u.username: u for u in self.local_users}

    def local_user(self, username: str) -> User | None:
        return self._users_by_name.get(username)

    # The stored records (the document's lists): for the write path, which changes the
    # document, and for readers not moved to the objects yet (metrics/controllers.py).
    @property
    def users(self) -> list[dict]:
        return self.doc["users"]

    @property
    def instances(self) -> list[dict]:
        return self.doc["instances"]

    @property
    def timeout(self) -> int:
        return self.doc["timeout"]

    @property
    def session_ttl_seconds(self) -> float:
        return self.doc["session_ttl"] / NS_PER_S

    @property
    def generation(self) -> int:
        return self.doc.get("generation", 0)

    @property
    def epoch(self) -> int:
        return self.doc.get("epoch", 0)

    @property
    def node_name(self) -> str:
        return self.doc.get("node_name") or _hostname()

    @property
    def role(self) -> str:
        return self.doc.get("role") or "primary"

    @functools.cached_property
    def peers(self) -> tuple[Peer, ...]:
        return tuple(Peer.parse(p) for p in self.doc.get("peers", ()))

    @functools.cached_property
    def settings(self) -> NodeSettings:
        return NodeSettings.parse(self.doc)

    @functools.cached_property
    def sha256(self) -> str:
        """Once per version like the entities: /health reports it on every probe."""
        return shared_sha256(self.doc)

    def user(self, username: str) -> dict | None:
        """The stored record of ``username`` (readers: ``local_user``)."""
        return next((u for u in self.users if u.get("username") == username), None)


@functools.cache
def _hostname() -> str:
    return socket.gethostname()  # read per request otherwise (X-Ccmgr-Node)


def shared_part(doc: dict) -> dict:
    return {k: doc[k] for k in SHARED_KEYS if k in doc}


def shared_sha256(doc: dict) -> str:
    """Hash of the shared keys in a canonical form, so equal configs hash equal on every node."""
    canonical = json.dumps(shared_part(doc), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_record(path: str, where: str, item: Any, fields: dict[str, type]) -> dict:
    if not isinstance(item, dict):
        raise ConfigError(path, f"expected a mapping, got {_describe(item)}", key=where)
    for name, value in item.items():
        kind = fields.get(name)
        if kind is not None and value is not None and not type_ok(value, kind):
            raise ConfigError(path, f"expected {type_name(kind)}, got {_describe(value)}",
                              key=f"{where}.{name}")
    return {k: v for k, v in item.items() if v is not None}


def _check_list(path: str, key: str, value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(path, f"expected a list, got {_describe(value)}", key=key)
    return value


def _normalise_instances(path: str, value: Any) -> list[dict]:
    from ccmgr.xid import new_xid  # local import: xid pulls in os/pid state only when needed

    out = []
    for index, item in enumerate(_check_list(path, "instances", value)):
        where = f"instances[{index}]"
        record = _check_record(path, where, item, INSTANCE_FIELDS)
        if not record.get("url", "").strip():
            raise ConfigError(path, "a controller needs a non-empty url", key=f"{where}.url")
        if len(record.get("xid", "")) < 4:  # cmon-proxy's own rule for a missing xid
            record["xid"] = new_xid()
        out.append(record)
    return out


def _normalise_users(path: str, value: Any) -> list[dict]:
    out, seen = [], set()
    for index, item in enumerate(_check_list(path, "users", value)):
        where = f"users[{index}]"
        record = _check_record(path, where, item, USER_FIELDS)
        name = record.get("username", "")
        if not name:
            raise ConfigError(path, "a user needs a non-empty username", key=f"{where}.username")
        if name in seen:
            raise ConfigError(path, f"duplicate username '{name}'", key=f"{where}.username")
        if record.get("role", "") not in ("", *USER_ROLES):
            raise ConfigError(path, f"must be one of {', '.join(USER_ROLES)}, got "
                              f"{_describe(record['role'])}", key=f"{where}.role")
        seen.add(name)
        out.append(record)
    return out


def _normalise_peers(path: str, value: Any) -> list[dict]:
    out = []
    for index, item in enumerate(_check_list(path, "peers", value)):
        record = _check_record(path, f"peers[{index}]", item, PEER_FIELDS)
        if not record.get("name"):
            raise ConfigError(path, "a peer needs a name", key=f"peers[{index}].name")
        if not record.get("address"):
            raise ConfigError(path, "a peer needs an address", key=f"peers[{index}].address")
        out.append(record)
    return out


def _normalise_proxies(path: str, value: Any) -> list[str]:
    out = []
    for index, item in enumerate(_check_list(path, "trusted_proxies", value)):
        try:
            ipaddress.ip_network(str(item), strict=False)
        except ValueError:
            raise ConfigError(path, f"not an IP address or network: {_describe(item)}",
                              key=f"trusted_proxies[{index}]") from None
        out.append(str(item))
    return out


TOKEN_FIELDS = {"name": str, "role": str, "hash": str, "created": int, "expires": int}


def _normalise_tokens(path: str, value: Any) -> list[dict]:
    out = []
    for index, item in enumerate(_check_list(path, "tokens", value)):
        where = f"tokens[{index}]"
        record = _check_record(path, where, item, TOKEN_FIELDS)
        for key in ("name", "hash"):
            if not record.get(key):
                raise ConfigError(path, f"a token needs a {key}", key=f"{where}.{key}")
        if record.get("role") not in USER_ROLES:
            raise ConfigError(path, f"must be one of {', '.join(USER_ROLES)}",
                              key=f"{where}.role")
        out.append(record)
    return out


def _normalise_origins(path: str, value: Any) -> list[str]:
    out = []
    for index, item in enumerate(_check_list(path, "cors_origins", value)):
        text = str(item).rstrip("/")
        if not (text.startswith(("https://", "http://")) and "/" not in text.split("//", 1)[1]):
            raise ConfigError(path, f"not an origin (scheme://host[:port]): {_describe(item)}",
                              key=f"cors_origins[{index}]")
        out.append(text)
    return out


def _int_key(path: str, doc: dict, key: str, default: int, minimum: int = 1) -> int:
    value = doc.get(key)
    if value is None:
        return default
    if not type_ok(value, int):
        raise ConfigError(path, f"expected an integer, got {_describe(value)}", key=key)
    return value if value >= minimum else default


def _str_key(path: str, doc: dict, key: str, default: str = "",
             choices: tuple[str, ...] = ()) -> str:
    value = doc.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConfigError(path, f"expected a string, got {_describe(value)}", key=key)
    if choices and value and value not in choices:
        raise ConfigError(path, f"must be one of {', '.join(choices)}, got '{value}'", key=key)
    return value


def parse_config(path: str, raw: Any) -> Config:
    """Validate a parsed YAML document and return it with cmon-proxy's defaults applied."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(path, f"the top level must be a mapping, got {_describe(raw)}")
    doc = dict(raw)  # top level only: every nested value below is rebuilt or copied
    doc["fetch_jobs_hours"] = _int_key(path, raw, "fetch_jobs_hours", DEFAULT_FETCH_JOBS_HOURS)
    doc["fetch_backups_days"] = _int_key(path, raw, "fetch_backups_days",
                                         DEFAULT_FETCH_BACKUPS_DAYS)
    doc["instances"] = _normalise_instances(path, raw.get("instances"))
    doc["timeout"] = _int_key(path, raw, "timeout", DEFAULT_TIMEOUT)
    doc["users"] = _normalise_users(path, raw.get("users"))
    port = _int_key(path, raw, "port", DEFAULT_PORT)
    if port > 65535:
        raise ConfigError(path, f"port out of range: {port}", key="port")
    doc["port"] = port
    doc["session_ttl"] = _int_key(path, raw, "session_ttl", DEFAULT_SESSION_TTL)
    for key in ("filename", "webapproot", "logfile", "frontend_path", "tls_cert", "tls_key",
                "single_controller", "bind_address", "node_name", "peer_ca_file"):
        value = _str_key(path, raw, key)
        if value or key in raw:
            doc[key] = value
    doc.setdefault("frontend_path", "/app")
    role = _str_key(path, raw, "role", "", ROLES)
    if role:  # not materialised: "no role yet" differs from an explicit primary
        doc["role"] = role
    else:
        doc.pop("role", None)
    doc["session_samesite"] = _str_key(path, raw, "session_samesite", DEFAULT_SAMESITE,
                                       SAMESITE) or DEFAULT_SAMESITE
    doc["peers"] = _normalise_peers(path, raw.get("peers"))
    doc["trusted_proxies"] = _normalise_proxies(path, raw.get("trusted_proxies"))
    # Not materialised when absent: the shared hash of a file without them stays the same.
    for key, normalise in (("tokens", _normalise_tokens), ("cors_origins", _normalise_origins)):
        if raw.get(key):
            doc[key] = normalise(path, raw[key])
        else:
            doc.pop(key, None)
    doc["replication_wait"] = _int_key(path, raw, "replication_wait", DEFAULT_REPLICATION_WAIT)
    doc["fetch_concurrency"] = _int_key(path, raw, "fetch_concurrency",
                                        DEFAULT_FETCH_CONCURRENCY)
    doc["cache_ttl"] = _int_key(path, raw, "cache_ttl", DEFAULT_CACHE_TTL)
    log_format = _str_key(path, raw, "log_format", "", LOG_FORMATS)
    if log_format:
        doc["log_format"] = log_format
    doc["generation"] = _int_key(path, raw, "generation", 0, minimum=0)
    doc["epoch"] = _int_key(path, raw, "epoch", 0, minimum=0)
    return Config(path=path, doc=doc)


def ordered_for_write(doc: dict) -> dict:
    """The document in write order; empty optional lists are omitted as cmon-proxy does."""
    out = {k: doc[k] for k in WRITE_ORDER if k in doc}
    out.update({k: v for k, v in doc.items() if k not in out})
    for key in ("peers", "trusted_proxies", "tokens", "cors_origins"):
        if not out.get(key):
            out.pop(key, None)
    return out
