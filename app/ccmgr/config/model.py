"""The config's entities as frozen dataclasses, parsed once per file version.

``Config.doc`` stays the validated document (it is what the store writes back, so keys
this version does not know survive a write); code that reads settings, peers, controllers
or users reads these objects (``Config.settings``, ``peers``, ``controllers``,
``local_users`` / ``local_user``) instead of ``doc.get("...")`` with a default each time.
Only the write path (``accounts``, ``registry`` and the pure ``users`` / ``instances``
functions they run) changes the document's records.
Each default is one constant here; ``config.schema`` applies the same ones.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Any

NS_PER_S = 1_000_000_000
DEFAULT_PORT = 19051
DEFAULT_TIMEOUT = 30
DEFAULT_SESSION_TTL = 1800 * NS_PER_S  # 30 min, cmon-proxy's value since 2024-05
DEFAULT_FETCH_JOBS_HOURS = 12
DEFAULT_FETCH_BACKUPS_DAYS = 7
DEFAULT_REPLICATION_WAIT = 5
# Unified view: controller fetches at once (thread pool) and seconds data stay fresh.
DEFAULT_FETCH_CONCURRENCY = 512  # threads are made as needed: ~ one per controller
DEFAULT_CACHE_TTL = 60
DEFAULT_SAMESITE = "Strict"
DEFAULT_SSH_PORT = 22
DEFAULT_SSH_USER = "ccmgr"
# users[].role: "admin" may change everything, "viewer" reads (issue 13); no role is admin.
ADMIN_ROLE, VIEWER_ROLE = "admin", "viewer"


def _from(cls: type, record: dict) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in record.items() if k in names and v is not None})


@dataclass(frozen=True)
class Peer:
    """Another node of the HA group (``peers:``)."""

    name: str
    address: str
    port: int = DEFAULT_PORT
    ssh_port: int = DEFAULT_SSH_PORT
    ssh_user: str = DEFAULT_SSH_USER

    @classmethod
    def parse(cls, record: dict | Peer) -> Peer:
        return record if isinstance(record, Peer) else _from(cls, record)


@dataclass(frozen=True)
class Instance:
    """A registered controller (``instances:``); the type of each field is the schema's."""

    xid: str = ""
    url: str = ""
    name: str = ""
    useldap: bool = False
    use_cmon_auth: bool = False
    username: str = ""
    password: str = ""
    keyfile: str = ""
    frontend_url: str = ""
    cmon_ssh_host: str = ""
    cmon_ssh_secure: bool = False
    ca_file: str = ""

    # The fields a controller's client and its cached data depend on: a change of any
    # of them makes the collectors log in again and forget the data.
    CLIENT_FIELDS = ("url", "username", "password", "keyfile", "useldap", "ca_file")

    @classmethod
    def parse(cls, record: dict | Instance) -> Instance:
        return record if isinstance(record, Instance) else _from(cls, record)

    @functools.cached_property
    def client_fingerprint(self) -> tuple:
        """The values of ``CLIENT_FIELDS`` (computed once per object: read per request)."""
        return tuple(getattr(self, k) or "" for k in self.CLIENT_FIELDS)


@dataclass(frozen=True)
class User:
    """A local user (``users:``)."""

    username: str
    passwordhash: str = ""
    email: str = ""
    firstname: str = ""
    lastname: str = ""
    ldap: bool = False
    cmon: bool = False
    xid: str = ""
    admin: bool = False
    account_id: str = ""
    role: str = ""  # "admin" (also when empty: every cmon-proxy file) or "viewer"

    @classmethod
    def parse(cls, record: dict | User) -> User:
        return record if isinstance(record, User) else _from(cls, record)

    @property
    def effective_role(self) -> str:
        return self.role or ADMIN_ROLE


@dataclass(frozen=True)
class NodeSettings:
    """The scalar settings, defaults applied."""

    timeout: int = DEFAULT_TIMEOUT
    cache_ttl: int = DEFAULT_CACHE_TTL
    fetch_concurrency: int = DEFAULT_FETCH_CONCURRENCY
    fetch_jobs_hours: int = DEFAULT_FETCH_JOBS_HOURS
    fetch_backups_days: int = DEFAULT_FETCH_BACKUPS_DAYS
    replication_wait: int = DEFAULT_REPLICATION_WAIT
    session_ttl: int = DEFAULT_SESSION_TTL
    session_samesite: str = DEFAULT_SAMESITE
    port: int = DEFAULT_PORT
    bind_address: str = ""
    peer_ca_file: str = ""
    single_controller: str = ""
    trusted_proxies: tuple[str, ...] = ()
    # Origins allowed to call the API from a browser (CORS); none by default.
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def parse(cls, doc: dict) -> NodeSettings:
        record = dict(doc)
        record["trusted_proxies"] = tuple(doc.get("trusted_proxies") or ())
        record["cors_origins"] = tuple(doc.get("cors_origins") or ())
        return _from(cls, record)


def field_types(cls: type) -> dict[str, type]:
    """A dataclass's fields and their types, as the field checker takes them."""
    kinds = {"str": str, "int": int, "bool": bool}
    return {f.name: kinds[str(f.type)] for f in fields(cls) if str(f.type) in kinds}
