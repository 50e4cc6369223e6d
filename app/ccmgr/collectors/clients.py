"""The cmon clients of one worker: one per (identity, controller), kept while the
controller's client fields (``Instance.CLIENT_FIELDS``) are unchanged.

Identities: local users share the default identity (the static credentials of the config).
An LDAP user gets their own clients for controllers marked ``useldap`` (their password is
kept in memory only, and forgotten when idle) and shares the default ones for the others.
When a controller is changed or removed, its clients go, its cached data go (``forget``,
the cache's ``drop``) and so do its HTTP connection pools (``HttpPool.forget``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ccmgr.cmon.client import CmonClient, Credentials, base_url
from ccmgr.cmon.model import Who
from ccmgr.config import Config
from ccmgr.config.model import Instance
from ccmgr.http import HttpPool

LDAP_REQUIRED = "LDAP authentication is required"
CMON_AUTH_REQUIRED = "cmon authentication is required (log in to ccmgr as a cmon user)"
DEFAULT_IDENTITY = ""


@dataclass
class _Identity:
    password: str = ""
    last_used: float = field(default_factory=time.monotonic)
    kind: str = "ldap"  # "ldap" (useldap controllers) or "cmon" (use_cmon_auth ones)


class ClientRegistry:
    def __init__(self, http: HttpPool, forget: Callable[[Callable[[Hashable], bool]], None]
                 ) -> None:
        self.http = http
        self._forget = forget  # drops cached data whose (identity, xid, kind) key matches
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], tuple[tuple, CmonClient]] = {}
        self._fingerprints: dict[str, tuple] = {}
        self._urls: dict[str, str] = {}
        self._synced: Config | None = None
        # The config the cached data belong to: set once data of controllers it changed
        # or removed are dropped (what collectors.snapshot labels the data with).
        self.settled: Config | None = None
        self._ldap: dict[str, _Identity] = {}
        self.last_seen: dict[str, datetime] = {}

    def identity_for(self, who: Who, instance: Instance) -> str:
        if not who.ldap:
            return DEFAULT_IDENTITY
        known = self._ldap.get(who.username)
        kind = known.kind if known is not None else "ldap"
        if instance.useldap and kind == "ldap":
            return who.username
        if instance.use_cmon_auth and kind == "cmon":
            return who.username
        return DEFAULT_IDENTITY

    def credentials(self, identity: str, instance: Instance) -> Credentials:
        if instance.useldap:
            known = self._ldap.get(identity) if identity else None
            if known is None:
                return Credentials(missing_reason=LDAP_REQUIRED)
            return Credentials(identity, known.password, ldap_only=True,
                               missing_reason=LDAP_REQUIRED)
        if instance.use_cmon_auth:
            known = self._ldap.get(identity) if identity else None
            if known is not None and known.kind == "cmon":
                return Credentials(identity, known.password, missing_reason=CMON_AUTH_REQUIRED)
            if not (instance.password or instance.keyfile):
                return Credentials(missing_reason=CMON_AUTH_REQUIRED)
        return Credentials(instance.username, instance.password, keyfile=instance.keyfile,
                           missing_reason="no password or keyfile is defined")

    def client(self, identity: str, instance: Instance, timeout: float) -> CmonClient:
        xid = instance.xid
        fp = self._fingerprints.get(xid) or instance.client_fingerprint
        with self._lock:
            held = self._clients.get((identity, xid))
            if held is not None and held[0] == fp:
                held[1].timeout = timeout
                return held[1]
            client = CmonClient(self.http, instance.url, self.credentials(identity, instance),
                                ca_file=instance.ca_file, timeout=timeout)
            self._clients[(identity, xid)] = (fp, client)
            return client

    def default_clients(self) -> dict[str, CmonClient]:
        """The shared (static-credential) client of each controller, by xid."""
        with self._lock:
            return {xid: held[1] for (identity, xid), held in self._clients.items()
                    if identity == DEFAULT_IDENTITY}

    def throwaway(self, instance: Instance, creds: Credentials, timeout: float) -> CmonClient:
        """A client that is not kept (controllers/test, LDAP login attempts)."""
        return CmonClient(self.http, instance.url, creds, ca_file=instance.ca_file,
                          timeout=timeout)

    def sync(self, config: Config) -> None:
        """Forget clients, cached data and connection pools of controllers that were
        removed or changed."""
        if config is self._synced:  # the store hands out one object per file version
            return
        current = {i.xid: i.client_fingerprint for i in config.controllers}
        urls = {i.xid: i.url for i in config.controllers}
        with self._lock:
            stale = {x for x, fp in self._fingerprints.items() if current.get(x) != fp}
            gone_urls = ({base_url(self._urls[x]) for x in stale if x in self._urls}
                         - {base_url(u) for u in urls.values()})
            self._fingerprints, self._urls, self._synced = current, urls, config
            for key in [k for k in self._clients if k[1] in stale]:
                del self._clients[key]
            for xid in stale:
                self.last_seen.pop(xid, None)
        if stale:
            self._forget(lambda key: key[1] in stale)
        self.settled = config
        for url in gone_urls:  # no controller uses this URL any more
            self.http.forget(url)

    # -- LDAP identities (spec §2.5.2) ------------------------------------------------------
    def touch(self, username: str) -> None:
        known = self._ldap.get(username)
        if known is not None:
            known.last_used = time.monotonic()

    def remember_ldap(self, username: str, password: str, instances: Sequence[Instance],
                      clients: list[CmonClient], kind: str = "ldap") -> None:
        """Keep the password (memory only) and the sessions the login just opened."""
        with self._lock:
            self._ldap[username] = _Identity(password, kind=kind)
            for key in [k for k in self._clients if k[0] == username]:
                del self._clients[key]
            for instance, client in zip(instances, clients, strict=True):
                if client.sid:
                    self._clients[(username, instance.xid)] = (instance.client_fingerprint,
                                                                client)
        self._forget(lambda key: key[0] == username)

    def forget_idle_identities(self, idle_seconds: float) -> None:
        cutoff = time.monotonic() - idle_seconds
        with self._lock:
            gone = [u for u, i in self._ldap.items() if i.last_used < cutoff]
            for username in gone:
                del self._ldap[username]
            for key in [k for k in self._clients if k[0] in gone]:
                del self._clients[key]
        if gone:
            self._forget(lambda key: key[0] in gone)
