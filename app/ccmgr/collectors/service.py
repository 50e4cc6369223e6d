"""The collection layer the resources talk to: clients per identity, cache, concurrency.

Built once per app (``create_app``); the thread pools and HTTP sessions are created on
first use, never at import (gunicorn forks). Every fetch runs in a bounded pool with its
own deadline (config ``timeout``); a request waits for cold data at most until its own
deadline and otherwise gets what the cache has, so one slow controller delays nothing else.

Identities: local users share the default identity (the static credentials of the config).
An LDAP user gets their own clients, sessions and cache entries for controllers marked
``useldap`` (their password is kept in memory only), and shares the default ones for the
others - the data are the same, as both use the same static service account there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from ccmgr.cmon.client import CmonClient, Credentials
from ccmgr.cmon.errors import CmonError
from ccmgr.cmon.model import ControllerData, Who
from ccmgr.collectors.cache import Cache, Entry, settle
from ccmgr.collectors.fetch import FETCHERS, NEEDS_CLUSTERS, FetchContext, cluster_ids
from ccmgr.config import Config
from ccmgr.config.model import Instance
from ccmgr.http import HttpPool

log = logging.getLogger("ccmgr.collectors")

ERROR_TTL = 10.0  # a failed controller is retried at most this often (per kind)
LDAP_REQUIRED = "LDAP authentication is required"
DEFAULT_IDENTITY = ""
MAX_SNAPSHOTS = 64


_fingerprint = Instance.client_fingerprint


@dataclass(frozen=True)
class _Snapshot:
    """One gather result, reusable while nothing it was built from has changed."""

    config: Config
    changes: int                      # Cache.changes when it was built
    valid_until: float                # the earliest expiry of the entries it holds
    clients: tuple[CmonClient, ...]   # data[i] copied its client fields from clients[i]
    data: list[ControllerData]

    def clients_unchanged(self) -> bool:
        """No client learned a new controller id, version or status since the copy."""
        return all((c.controller_id, c.version, c.last_status)
                   == (d.controller_id, d.version, d.last_status)
                   for c, d in zip(self.clients, self.data, strict=True))


@dataclass
class _Identity:
    password: str = ""
    last_used: float = field(default_factory=time.monotonic)


class Collectors:
    def __init__(self, *, concurrency: int | None = None, ttl: float | None = None,
                 http: HttpPool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._concurrency = concurrency
        self._ttl = ttl
        self.http = http or HttpPool()
        self.cache = Cache(clock=clock)
        self.clock = clock
        self._lock = threading.Lock()
        self._pool: Executor | None = None
        self._fanout: Executor | None = None
        self._clients: dict[tuple[str, str], tuple[tuple, CmonClient]] = {}
        self._fingerprints: dict[str, tuple] = {}
        self._synced: Config | None = None
        self._ldap: dict[str, _Identity] = {}
        self.last_seen: dict[str, datetime] = {}
        self._swept = 0.0
        self._snapshots: dict[tuple, _Snapshot] = {}
        self._snapshots_at = 0  # Cache.changes the kept snapshots were made at

    # -- settings and pools -----------------------------------------------------------------
    def ttl(self, config: Config) -> float:
        return float(self._ttl if self._ttl is not None else config.settings.cache_ttl)

    def _pools(self, config: Config) -> tuple[Executor, Executor]:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    size = int(self._concurrency or config.settings.fetch_concurrency)
                    self._fanout = ThreadPoolExecutor(size, thread_name_prefix="ccmgr-fanout")
                    self._pool = ThreadPoolExecutor(size, thread_name_prefix="ccmgr-fetch")
        assert self._fanout is not None
        return self._pool, self._fanout

    def close(self) -> None:
        for pool in (self._pool, self._fanout):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self.http.close()

    # -- identities and clients --------------------------------------------------------------
    def identity_for(self, who: Who, instance: dict) -> str:
        if instance.get("useldap") and who.ldap:
            return who.username
        return DEFAULT_IDENTITY

    def _credentials(self, identity: str, instance: dict) -> Credentials:
        if instance.get("useldap"):
            known = self._ldap.get(identity) if identity else None
            if known is None:
                return Credentials(missing_reason=LDAP_REQUIRED)
            return Credentials(identity, known.password, ldap_only=True,
                               missing_reason=LDAP_REQUIRED)
        return Credentials(instance.get("username", ""), instance.get("password", ""),
                           keyfile=instance.get("keyfile", ""),
                           missing_reason="no password or keyfile is defined")

    def client(self, identity: str, instance: dict, timeout: float) -> CmonClient:
        xid = instance["xid"]
        fp = self._fingerprints.get(xid) or _fingerprint(instance)
        with self._lock:
            held = self._clients.get((identity, xid))
            if held is not None and held[0] == fp:
                held[1].timeout = timeout
                return held[1]
            client = CmonClient(self.http, instance["url"], self._credentials(identity, instance),
                                ca_file=instance.get("ca_file", ""), timeout=timeout)
            self._clients[(identity, xid)] = (fp, client)
            return client

    def sync(self, config: Config) -> None:
        """Forget clients and cache entries of controllers that were removed or changed."""
        if config is self._synced:  # the store hands out one object per file version
            return
        current = {i["xid"]: _fingerprint(i) for i in config.instances}
        with self._lock:
            stale = {x for x, fp in self._fingerprints.items() if current.get(x) != fp}
            self._fingerprints, self._synced = current, config
            for key in [k for k in self._clients if k[1] in stale]:
                del self._clients[key]
            for xid in stale:
                self.last_seen.pop(xid, None)
        if stale:
            self.cache.drop(lambda key: key[1] in stale)

    # -- collection -------------------------------------------------------------------------
    def _fetch_fn(self, kind: str, client: CmonClient, config: Config, ids: list[int],
                  fanout: Executor) -> Callable[[], Any]:
        timeout = float(config.timeout)

        def run() -> Any:
            ctx = FetchContext(deadline=time.monotonic() + timeout,
                               now=datetime.now().astimezone(), cluster_ids=ids,
                               fetch_jobs_hours=config.settings.fetch_jobs_hours,
                               fetch_backups_days=config.settings.fetch_backups_days,
                               fanout=fanout)
            return FETCHERS[kind](client, ctx)

        return run

    def _start(self, who: Who, config: Config, instances: list[dict], kind: str,
               force: bool, clients: dict[str, CmonClient],
               clusters: dict[str, Entry] | None = None) -> dict:
        pool, fanout = self._pools(config)
        ttl, timeout = self.ttl(config), float(config.timeout)
        pending = {}
        for instance in instances:
            identity = self.identity_for(who, instance)
            client = self.client(identity, instance, timeout)
            clients[instance["xid"]] = client
            ids = cluster_ids(clusters[instance["xid"]].data) if clusters else []
            key = (identity, instance["xid"], kind)
            pending[(kind, instance["xid"])] = self.cache.start(
                key, partial(self._fetch_fn, kind, client, config, ids, fanout), pool,
                ttl=ttl, error_ttl=min(ERROR_TTL, ttl), force=force)
        return pending

    def gather(self, who: Who, config: Config, kinds: Iterable[str], *,
               force: bool = False, force_clusters: bool | None = None,
               peek: Iterable[str] = ()) -> list[ControllerData]:
        """Data of every configured controller for ``kinds``, within one ``timeout``.

        Kinds that need the cluster list (alarms, jobs, logs, audit) are started once it is
        there; everything else starts at once. ``peek`` kinds are read from the cache only.
        Without ``force``, a previous result is handed out again while every entry in it
        is fresh and nothing in the cache or the clients changed: a warm dashboard request
        then costs one comparison instead of a cache lookup per controller and kind.
        """
        self.sync(config)
        if who.ldap:
            self.touch(who.username)
        if self.clock() - self._swept > 60:
            self._swept = self.clock()
            self.forget_idle_identities(config.session_ttl_seconds)
        kinds = list(dict.fromkeys(kinds))
        if any(k != "ping" for k in kinds) and "clusters" not in kinds:
            kinds.insert(0, "clusters")
        peek = tuple(peek)
        forced = force or bool(force_clusters)
        snapshot_key = (who if who.ldap else None, tuple(kinds), peek)
        if not forced:
            snapshot = self._snapshots.get(snapshot_key)
            if (snapshot is not None and snapshot.config is config
                    and snapshot.changes == self.cache.changes
                    and self.clock() < snapshot.valid_until
                    and snapshot.clients_unchanged()):
                return snapshot.data
        changes = self.cache.changes  # read first: a change while gathering voids the result
        if self._snapshots_at != changes:
            self._drop_snapshots(changes)
        deadline = self.clock() + float(config.timeout)
        instances = list(config.instances)
        first = [k for k in kinds if k not in NEEDS_CLUSTERS]
        pending: dict = {}
        clients: dict[str, CmonClient] = {}
        for kind in first:
            kind_force = (force if force_clusters is None else force_clusters) \
                if kind == "clusters" else force
            pending.update(self._start(who, config, instances, kind, kind_force, clients))
        settled = settle(pending, deadline, self.clock)
        second = [k for k in kinds if k in NEEDS_CLUSTERS]
        if second:
            clusters = {xid: e for (kind, xid), e in settled.items() if kind == "clusters"}
            pending = {}
            for kind in second:
                pending.update(self._start(who, config, instances, kind, force, clients,
                                           clusters))
            settled.update(settle(pending, deadline, self.clock))
        ttl, timeout = self.ttl(config), float(config.timeout)
        error_ttl = min(ERROR_TTL, ttl)
        valid_until = float("inf")
        out = []
        used: list[CmonClient] = []
        for instance in instances:
            xid = instance["xid"]
            identity = self.identity_for(who, instance)
            client = clients.get(xid) or self.client(identity, instance, timeout)
            used.append(client)
            data, fetched, fetched_at, errors = {}, {}, {}, {}
            version = [xid, instance["url"], client.controller_id]
            for kind in (*kinds, *peek):
                entry = settled.get((kind, xid))
                if entry is None:
                    if kind in data:
                        continue
                    entry = self.cache.get((identity, xid, kind))
                data[kind], fetched[kind] = entry.data, entry.fetched
                fetched_at[kind] = None if entry.data is None else entry.fetched_at
                if entry.error is not None:
                    errors[kind] = entry.error
                version.append((kind, id(entry.data), entry.fetched_at))
                valid_until = min(valid_until, entry.expires(ttl, error_ttl))
            out.append(ControllerData(
                xid=xid, url=instance["url"], name=instance.get("name", ""),
                controller_id=client.controller_id, data=data, fetched=fetched,
                fetched_at=fetched_at, errors=errors, version=client.version,
                last_status=client.last_status, ldap=bool(instance.get("useldap")),
                frontend_url=instance.get("frontend_url", ""), version_key=tuple(version),
            ))
        self._keep(snapshot_key, _Snapshot(config, changes, valid_until, tuple(used), out))
        return out

    def _keep(self, key: tuple, snapshot: _Snapshot) -> None:
        with self._lock:
            if snapshot.changes != self.cache.changes:
                return  # already outdated: it would only keep old payloads alive
            self._snapshots.pop(key, None)
            self._snapshots[key] = snapshot
            while len(self._snapshots) > MAX_SNAPSHOTS:  # LDAP users: one key each
                del self._snapshots[next(iter(self._snapshots))]

    def _drop_snapshots(self, changes: int) -> None:
        """Forget results made before the cache last changed: unusable, and each one would
        keep a superseded copy of the estate in memory."""
        with self._lock:
            self._snapshots = {k: v for k, v in self._snapshots.items() if v.changes == changes}
            self._snapshots_at = changes

    def warm_up(self, config: Config) -> None:
        """Log in to every static-credential controller in the background, as cmon-proxy
        does at start (it blocks; we do not), then fetch its cluster list into the cache,
        so that the first dashboard after a restart joins a fetch already under way
        instead of paying for a login and a fetch one after the other."""
        self.sync(config)
        pool, _ = self._pools(config)
        timeout = float(config.timeout)

        def login_and_fetch(instance: dict, client: CmonClient) -> None:
            try:
                if not client.sid:
                    client.authenticate(time.monotonic() + timeout)
            except CmonError as exc:
                log.info("start-up login to %s failed: %s", client.url, exc.message)
                return
            self._start(Who(), config, [instance], "clusters", False, {})

        for instance in config.instances:
            if not instance.get("useldap"):
                pool.submit(login_and_fetch, instance,
                            self.client(DEFAULT_IDENTITY, instance, timeout))

    # -- LDAP forwarding (spec §2.5.2) ------------------------------------------------------
    def touch(self, username: str) -> None:
        known = self._ldap.get(username)
        if known is not None:
            known.last_used = time.monotonic()

    def ldap_login(self, config: Config, username: str, password: str) -> dict | None:
        """Try the credentials on every ``useldap`` controller at once; any success wins."""
        ldap_instances = [i for i in config.instances if i.get("useldap")]
        if not ldap_instances or not username or not password:
            return None
        pool, _ = self._pools(config)
        timeout = float(config.timeout)
        creds = Credentials(username, password, ldap_only=True, missing_reason=LDAP_REQUIRED)
        clients = [CmonClient(self.http, i["url"], creds, ca_file=i.get("ca_file", ""),
                              timeout=timeout) for i in ldap_instances]

        def attempt(client: CmonClient) -> dict | None:
            try:
                client.authenticate(time.monotonic() + timeout)
            except CmonError as exc:
                log.info("LDAP login of '%s' on %s failed: %s", username, client.url,
                         exc.message)
                return None
            return client.user or {}

        futures = [pool.submit(attempt, c) for c in clients]
        wait(futures, timeout=timeout + 1)
        users = [f.result() for f in futures if f.done() and f.result() is not None]
        if not users:
            return None
        self._remember_ldap(username, password, ldap_instances, clients, timeout)
        user = users[0]
        synthetic = {"username": user.get("user_name") or username, "ldap": True}
        for ours, theirs in (("firstname", "first_name"), ("lastname", "last_name"),
                             ("email", "email_address")):
            if user.get(theirs):
                synthetic[ours] = user[theirs]
        return {"user": synthetic}

    def _remember_ldap(self, username: str, password: str, instances: list[dict],
                       clients: list[CmonClient], timeout: float) -> None:
        """Keep the password (memory only) and the sessions the login just opened."""
        with self._lock:
            self._ldap[username] = _Identity(password)
            for key in [k for k in self._clients if k[0] == username]:
                del self._clients[key]
            for instance, client in zip(instances, clients, strict=True):
                if client.sid:
                    self._clients[(username, instance["xid"])] = (_fingerprint(instance), client)
        self.cache.drop(lambda key: key[0] == username)

    def forget_idle_identities(self, idle_seconds: float) -> None:
        cutoff = time.monotonic() - idle_seconds
        with self._lock:
            gone = [u for u, i in self._ldap.items() if i.last_used < cutoff]
            for username in gone:
                del self._ldap[username]
            for key in [k for k in self._clients if k[0] in gone]:
                del self._clients[key]
        if gone:
            self.cache.drop(lambda key: key[0] in gone)

    # -- one-off test of a controller (controllers/test, add, update) -----------------------
    def test(self, who: Who, instance: dict, timeout: float) -> tuple[CmonClient,
                                                                     CmonError | None]:
        """Log in with a throw-away client (no cache); returns it and the failure if any."""
        identity = self.identity_for(who, instance)
        creds = self._credentials(identity, instance)
        client = CmonClient(self.http, instance.get("url", ""), creds,
                            ca_file=instance.get("ca_file", ""), timeout=timeout)
        try:
            client.authenticate(time.monotonic() + timeout)
        except CmonError as exc:
            return client, exc
        return client, None

    def note_seen(self, xid: str, when: datetime) -> datetime | None:
        self.last_seen[xid] = when
        return when
