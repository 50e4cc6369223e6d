"""The collection layer the resources talk to: the gatherer over the clients
(``collectors.clients``), the cache (``collectors.cache``) and the thread pools.

Built once per app (``create_app``); the thread pools and HTTP sessions are created on
first use, never at import (gunicorn forks). Every fetch runs in a bounded pool with its
own deadline (config ``timeout``); a request waits for cold data at most until its own
deadline and otherwise gets what the cache has, so one slow controller delays nothing else.

Cache entries are keyed by (identity, controller xid, kind); see ``collectors.clients``
for identities. A gather result is reused while nothing it was built from changed
(``collectors.memo``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from ccmgr.cmon.client import CmonClient, Credentials, state_changes
from ccmgr.cmon.errors import CmonError
from ccmgr.cmon.model import ControllerData, Gathered, Who
from ccmgr.cmon.offload import Offload
from ccmgr.collectors.cache import Cache, Entry, Pending, settle
from ccmgr.collectors.clients import DEFAULT_IDENTITY, LDAP_REQUIRED, ClientRegistry
from ccmgr.collectors.fetch import FETCHERS, NEEDS_CLUSTERS, FetchContext, cluster_ids
from ccmgr.collectors.snapshot import Keeper
from ccmgr.config import Config
from ccmgr.config.model import Instance
from ccmgr.http import HttpPool
from ccmgr.versionedmemo import VersionedMemo

log = logging.getLogger("ccmgr.collectors")

ERROR_TTL = 10.0  # a failed controller is retried at most this often (per kind)
WARM_UP_PACE = 64  # start-up logins at once when the snapshot serves meanwhile
BACKGROUND_REFRESHES = 64  # refreshes of stale data at once (requests do not wait for them)
# Per-cluster calls (alarms, jobs, logs, audit of every cluster) at once, over all
# controllers: ~40 per controller, so the wide fetch pool's width would put hundreds on
# the controllers at once.
FANOUT_AT_ONCE = 64
MAX_SNAPSHOTS = 64


@dataclass(frozen=True)
class RelayReply:
    """A controller's reply to a passed-through RPC, or why there is none."""

    xid: str
    status: int = 0
    content_type: str = ""
    body: bytes = b""
    error: CmonError | None = None


@dataclass(frozen=True)
class _Snapshot:
    """One gather result, reusable while nothing it was built from has changed."""

    config: Config
    changes: int                      # Cache.changes when it was built
    client_changes: int               # cmon.client.state_changes() then
    valid_until: float                # the earliest expiry of the entries it holds
    data: Gathered

    def clients_unchanged(self) -> bool:
        """No client learned a new controller id, version or status since the copy."""
        return state_changes() == self.client_changes


class Collectors:
    def __init__(self, *, concurrency: int | None = None, ttl: float | None = None,
                 http: HttpPool | None = None, fetch_processes: int = 0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._concurrency = concurrency
        self._ttl = ttl
        self.http = http or HttpPool()
        if fetch_processes:
            # One interpreter carries out ~600 TLS fetches a second at most, all its cores
            # but one idle: with hundreds of controllers the HTTP goes to child processes
            # (started by warm_up, or on the first call; docs/architecture.md).
            self.http.offload = Offload(fetch_processes)
        self.cache = Cache(clock=clock)
        self.clock = clock
        self._lock = threading.Lock()
        self._pool: Executor | None = None
        self._background: Executor | None = None  # refreshes nobody waits for
        self._fanout: Executor | None = None
        self.clients = ClientRegistry(self.http, self.cache.drop)
        self._swept = 0.0
        self._snapshots = VersionedMemo(MAX_SNAPSHOTS)  # versions: Cache.changes
        # A kept result whose data changed is dropped at once, not at the next request:
        # until then it would keep the superseded payloads alive beside the new.
        self.cache.on_change = self._forget_outdated
        # Called after every fetch with (xid, kind, seconds, error or None): the metrics
        # (ccmgr.metrics) count here without this layer knowing about them.
        self.fetch_observers: list[Callable[[str, str, float, CmonError | None], None]] = []

    # -- settings and pools -----------------------------------------------------------------
    def ttl(self, config: Config) -> float:
        return float(self._ttl if self._ttl is not None else config.settings.cache_ttl)

    def _pools(self, config: Config) -> tuple[Executor, Executor]:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    size = int(self._concurrency or config.settings.fetch_concurrency)
                    self._fanout = ThreadPoolExecutor(min(size, FANOUT_AT_ONCE),
                                                      thread_name_prefix="ccmgr-fanout")
                    self._background = ThreadPoolExecutor(
                        min(size, BACKGROUND_REFRESHES), thread_name_prefix="ccmgr-refresh")
                    self._pool = ThreadPoolExecutor(size, thread_name_prefix="ccmgr-fetch")
        assert self._fanout is not None
        return self._pool, self._fanout

    def close(self) -> None:
        for pool in (self._pool, self._fanout, self._background):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        if self.http.offload is not None:
            self.http.offload.close()
        self.http.close()

    # -- clients (collectors.clients) -------------------------------------------------------
    def client(self, identity: str, instance: Instance, timeout: float) -> CmonClient:
        return self.clients.client(identity, instance, timeout)

    @property
    def last_seen(self) -> dict[str, datetime]:
        return self.clients.last_seen

    # -- collection -------------------------------------------------------------------------
    def _fetch_fn(self, kind: str, client: CmonClient, config: Config, ids: list[int],
                  fanout: Executor, xid: str = "") -> Callable[[], Any]:
        timeout = float(config.timeout)

        def run() -> Any:
            started = time.monotonic()
            ctx = FetchContext(deadline=started + timeout,
                               now=datetime.now().astimezone(), cluster_ids=ids,
                               fetch_jobs_hours=config.settings.fetch_jobs_hours,
                               fetch_backups_days=config.settings.fetch_backups_days,
                               fanout=fanout)
            error: CmonError | None = None
            try:
                return FETCHERS[kind](client, ctx)
            except CmonError as exc:
                error = exc
                raise
            finally:
                for observe in self.fetch_observers:
                    observe(xid, kind, time.monotonic() - started, error)

        return run

    def _start(self, who: Who, config: Config, instances: Sequence[Instance], kind: str,
               force: bool, clients: dict[str, CmonClient],
               clusters: dict[str, Entry] | None = None) -> dict:
        pool, fanout = self._pools(config)
        ttl, timeout = self.ttl(config), float(config.timeout)
        pending = {}
        for instance in instances:
            identity = self.clients.identity_for(who, instance)
            client = self.clients.client(identity, instance, timeout)
            xid = instance.xid
            clients[xid] = client
            ids = cluster_ids(clusters[xid].data) if clusters else []
            fetch = partial(self._fetch_fn, kind, client, config, ids, fanout, xid)
            key = (identity, xid, kind)
            entry, flight = self.cache.start(key, fetch, pool, ttl=ttl,
                                             error_ttl=min(ERROR_TTL, ttl), force=force,
                                             background=self._background)
            pending[(kind, xid)] = Pending(key, None if flight is not None else entry, flight)
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
        self.clients.sync(config)
        if who.ldap:
            self.clients.touch(who.username)
        if self.clock() - self._swept > 60:
            self._swept = self.clock()
            self.clients.forget_idle_identities(config.session_ttl_seconds)
        kinds = list(dict.fromkeys(kinds))
        if any(k != "ping" for k in kinds) and "clusters" not in kinds:
            kinds.insert(0, "clusters")
        peek = tuple(peek)
        forced = force or bool(force_clusters)
        snapshot_key = (who if who.ldap else None, tuple(kinds), peek)
        if not forced:
            snapshot = self._snapshots.lookup(snapshot_key, self.cache.changes)
            if (snapshot is not None and snapshot.config is config
                    and self.clock() < snapshot.valid_until
                    and snapshot.clients_unchanged()):
                return snapshot.data
        changes = self.cache.changes  # read first: a change while gathering voids the result
        client_changes = state_changes()  # the same for the clients' fields copied below
        if forced:
            # Every kept result is about to be superseded; held during the refresh, they
            # would keep the whole previous estate alive beside the new one (peak memory).
            self._snapshots.keep_only(lambda made_at: False)
        deadline = self.clock() + float(config.timeout)
        instances = config.controllers
        first = [k for k in kinds if k not in NEEDS_CLUSTERS]
        pending: dict = {}
        clients: dict[str, CmonClient] = {}
        for kind in first:
            kind_force = (force if force_clusters is None else force_clusters) \
                if kind == "clusters" else force
            pending.update(self._start(who, config, instances, kind, kind_force, clients))
        settled = settle(pending, deadline, self.cache.get, self.clock)
        second = [k for k in kinds if k in NEEDS_CLUSTERS]
        if second:
            clusters = {xid: e for (kind, xid), e in settled.items() if kind == "clusters"}
            pending = {}
            for kind in second:
                pending.update(self._start(who, config, instances, kind, force, clients,
                                           clusters))
            settled.update(settle(pending, deadline, self.cache.get, self.clock))
        ttl, timeout = self.ttl(config), float(config.timeout)
        error_ttl = min(ERROR_TTL, ttl)
        valid_until = float("inf")
        out = Gathered()
        for instance in instances:
            xid = instance.xid
            identity = self.clients.identity_for(who, instance)
            client = clients.get(xid) or self.clients.client(identity, instance, timeout)
            data, fetched, fetched_at, errors = {}, {}, {}, {}
            version = [xid, instance.url, client.controller_id]
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
                version.append((kind, entry.version))
                valid_until = min(valid_until, entry.expires(ttl, error_ttl))
            out.append(ControllerData(
                xid=xid, url=instance.url, name=instance.name,
                controller_id=client.controller_id, data=data, fetched=fetched,
                fetched_at=fetched_at, errors=errors, version=client.version,
                last_status=client.last_status, ldap=instance.useldap,
                frontend_url=instance.frontend_url, version_key=tuple(version),
            ))
        self._keep(snapshot_key, _Snapshot(config, changes, client_changes, valid_until, out))
        return out

    def _keep(self, key: tuple, snapshot: _Snapshot) -> None:
        if snapshot.changes == self.cache.changes:  # else outdated: it would only keep
            self._snapshots.store(key, snapshot.changes, snapshot)  # old payloads alive

    def _forget_outdated(self) -> None:
        """Forget results made before the cache last changed: unusable, and each one would
        keep a superseded copy of the estate in memory."""
        changes = self.cache.changes
        self._snapshots.keep_only(lambda made_at: made_at == changes)

    def warm_up(self, config: Config, snapshot: Keeper | None = None) -> None:
        """Log in to every static-credential controller in the background, as cmon-proxy
        does at start (it blocks; we do not), then fetch its cluster list into the cache,
        so that the first dashboard after a restart joins a fetch already under way
        instead of paying for a login and a fetch one after the other.

        With a ``snapshot``, the cluster lists kept by the previous run are loaded first
        (stale: served at once, refreshed by these fetches) and kept on disk from then on.
        """
        if self.http.offload is not None:
            self.http.offload.start()
        self.clients.sync(config)
        seeded = 0
        if snapshot is not None:
            seeded = snapshot.load(config)
            snapshot.start()
        pool, _ = self._pools(config)
        if seeded:
            # Dashboards are served from the snapshot meanwhile: logins all at once would
            # take the interpreter from them (500 controllers, first reply after a
            # restart: 0.42 x latency paced, 2.41 x at once); their fetches are refreshes
            # of seeded data, so they run in the background pool.
            pool = ThreadPoolExecutor(WARM_UP_PACE, thread_name_prefix="ccmgr-warm-up")
        timeout = float(config.timeout)

        def login_and_fetch(instance: Instance, client: CmonClient) -> None:
            try:
                if not client.sid:
                    client.authenticate(time.monotonic() + timeout)
            except CmonError as exc:
                log.info("start-up login to %s failed: %s", client.url, exc.message)
                return
            self._start(Who(), config, [instance], "clusters", False, {})

        for instance in config.controllers:
            if not instance.useldap:
                pool.submit(login_and_fetch, instance,
                            self.clients.client(DEFAULT_IDENTITY, instance, timeout))
        if seeded:
            pool.shutdown(wait=False)  # its threads end when the logins are done

    # -- LDAP forwarding (spec §2.5.2) ------------------------------------------------------
    def ldap_login(self, config: Config, username: str, password: str) -> dict | None:
        """Try the credentials on every ``useldap`` controller at once; any success wins."""
        ldap_instances = [i for i in config.controllers if i.useldap]
        if not ldap_instances or not username or not password:
            return None
        pool, _ = self._pools(config)
        timeout = float(config.timeout)
        creds = Credentials(username, password, ldap_only=True, missing_reason=LDAP_REQUIRED)
        clients = [self.clients.throwaway(i, creds, timeout) for i in ldap_instances]

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
        self.clients.remember_ldap(username, password, ldap_instances, clients)
        user = users[0]
        synthetic = {"username": user.get("user_name") or username, "ldap": True}
        for ours, theirs in (("firstname", "first_name"), ("lastname", "last_name"),
                             ("email", "email_address")):
            if user.get(theirs):
                synthetic[ours] = user[theirs]
        return {"user": synthetic}

    # -- cmon-auth forwarding (spec §2.5.3) -------------------------------------------------
    def cmon_login(self, config: Config, username: str, password: str) -> dict | None:
        """Test the credentials on the first ``use_cmon_auth`` controller; on success every
        such controller is used with them by this user (their own controller sessions)."""
        cmon_instances = [i for i in config.controllers if i.use_cmon_auth]
        if not cmon_instances or not username or not password:
            return None
        first = cmon_instances[0]
        timeout = float(config.timeout)
        client = self.clients.throwaway(first, Credentials(username, password), timeout)
        try:
            client.authenticate(time.monotonic() + timeout)
        except CmonError as exc:
            log.info("cmon-auth login of '%s' on %s failed: %s", username, client.url,
                     exc.message)
            return None
        self.clients.remember_ldap(username, password, [first], [client], kind="cmon")
        user = client.user or {}
        synthetic = {"username": user.get("user_name") or username, "cmon": True,
                     "xid": first.xid}
        for ours, theirs in (("firstname", "first_name"), ("lastname", "last_name"),
                             ("email", "email_address")):
            if user.get(theirs):
                synthetic[ours] = user[theirs]
        return {"user": synthetic}

    # -- one-off test of a controller (controllers/test, add, update) -----------------------
    def test(self, who: Who, instance: Instance, timeout: float) -> tuple[CmonClient,
                                                                         CmonError | None]:
        """Log in with a throw-away client (no cache); returns it and the failure if any."""
        identity = self.clients.identity_for(who, instance)
        creds = self.clients.credentials(identity, instance)
        client = self.clients.throwaway(instance, creds, timeout)
        try:
            client.authenticate(time.monotonic() + timeout)
        except CmonError as exc:
            return client, exc
        return client, None

    # -- pass-through (/v2/*any, /v2multi/*any; spec §2.9) ----------------------------------
    def find_controller(self, who: Who, config: Config, routing_id: str) -> Instance | None:
        """The controller whose xid or cmon controller id is ``routing_id``; controller ids
        not learnt yet are learnt from a (cached) ping of every controller."""
        timeout = float(config.timeout)
        self.clients.sync(config)
        for instance in config.controllers:
            if instance.xid == routing_id:
                return instance
        for attempt in range(2):
            for instance in config.controllers:
                client = self.clients.client(self.clients.identity_for(who, instance),
                                             instance, timeout)
                if client.controller_id and client.controller_id == routing_id:
                    return instance
            if attempt == 0:
                self.gather(who, config, ["ping"])
        return None

    def relay(self, who: Who, config: Config, instance: Instance, module: str,
              body: dict) -> RelayReply:
        """One RPC to one controller with the session's identity, within ``timeout``."""
        timeout = float(config.timeout)
        client = self.clients.client(self.clients.identity_for(who, instance), instance,
                                     timeout)
        try:
            status, kind, data = client.relay(module, body, time.monotonic() + timeout)
        except CmonError as exc:
            return RelayReply(instance.xid, error=exc)
        return RelayReply(instance.xid, status, kind, data)

    def relay_many(self, who: Who, config: Config, instances: Sequence[Instance], module: str,
                   body: dict) -> list[RelayReply]:
        """The same RPC to every one of ``instances`` at once, through the bounded fetch
        pool the aggregates use; a controller without a reply in time is a timeout."""
        pool, _ = self._pools(config)
        if who.ldap:
            self.clients.touch(who.username)
        futures = [pool.submit(self.relay, who, config, i, module, body) for i in instances]
        wait(futures, timeout=float(config.timeout) + 1)
        out = []
        for instance, future in zip(instances, futures, strict=True):
            if future.done() and future.exception() is None:
                out.append(future.result())
            else:
                future.cancel()
                out.append(RelayReply(instance.xid, error=CmonError(
                    f"no reply within {config.timeout}s (timeout)")))
        return out

    def note_seen(self, xid: str, when: datetime) -> datetime | None:
        self.clients.last_seen[xid] = when
        return when
