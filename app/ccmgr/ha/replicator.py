"""The primary's side of replication: push after each write, catch up laggards, step down.

``push_all`` sends the current bundle to every peer in parallel and waits at most
``replication_wait`` seconds; a peer that did not take it is marked behind. A background
thread (one per node, guarded by a lock file) retries behind peers with capped backoff and
sends a heartbeat push every ``HEARTBEAT_S`` so lag is measured and a higher epoch held by a
peer (after a promotion) is noticed, at which point this node steps down.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from ccmgr.config import Config
from ccmgr.config.model import Peer
from ccmgr.fsutil import give_to_dir_owner
from ccmgr.ha.bundle import make_bundle
from ccmgr.ha.state import HAState
from ccmgr.ha.status import peer_in_sync
from ccmgr.ha.transport import SshTransport, TransportError
from ccmgr.logsetup import audit
from ccmgr.runtime import Services

log = logging.getLogger("ccmgr.ha")
HEARTBEAT_S = 15.0
MAX_BACKOFF_S = 4.0  # a healed partition catches up within a few seconds
LOOP_TICK_S = 0.5


class Replicator:
    def __init__(self, services: Services, transport: SshTransport | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.services = services
        self.transport = transport or SshTransport(services.basedir)
        self.state = HAState(services.basedir)
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._next_try: dict[str, float] = {}
        self._merged = False  # a push answer brought revocations this node did not have
        self._backoff: dict[str, float] = {}
        # Pushes made by this process, by peer (the metrics read them).
        self.pushes: dict[str, int] = {}
        self.push_failures: dict[str, int] = {}

    # --- pushing -----------------------------------------------------------------------
    def push_all(self, wait_s: float | None = None) -> dict[str, dict]:
        """Push the current bundle to every peer; returns each peer's outcome."""
        config = self.services.store.current()
        if config.role == "secondary" or not config.peers:
            return {}
        wait_s = config.settings.replication_wait if wait_s is None else wait_s
        payload = json.dumps(make_bundle(self.services)).encode()
        results: dict[str, dict] = {}
        pool = ThreadPoolExecutor(max_workers=len(config.peers), thread_name_prefix="push")
        futures = {pool.submit(self._push_one, peer, payload, wait_s): peer.name
                   for peer in config.peers}
        done, pending = wait(futures, timeout=wait_s + 1)
        for future in done:
            results[futures[future]] = future.result()
        for future in pending:
            results[futures[future]] = {"ok": False, "error": "timed out"}
        pool.shutdown(wait=False)
        self._record(config, results)
        return results

    def _push_one(self, peer: Peer, payload: bytes, timeout: float) -> dict:
        started = self.clock()
        try:
            reply = self.transport.call(peer, "push", payload, timeout)
        except TransportError as exc:
            return {"ok": False, "error": str(exc)}
        try:
            answer = json.loads(reply.stdout or "{}")
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if self.services.sessions.revocations.merge(answer.pop("revocations", None)):
            # A logout made on that peer while we were unreachable: every peer gets the
            # merged set with the loop's next round (see _record).
            audit("merged session revocations made on %s", peer.name)
            self._merged = True
        answer["ok"] = reply.code == 0 and answer.get("status") in ("applied", "current")
        answer["seconds"] = round(self.clock() - started, 3)
        if not answer["ok"] and "error" not in answer:
            answer["error"] = reply.stderr or answer.get("message") or f"exit {reply.code}"
        return answer

    def _record(self, config: Config, results: dict[str, dict]) -> None:
        now = self.clock()

        def change(data: dict) -> None:
            for name, result in results.items():
                peer = data["peers"].setdefault(name, {})
                peer["last_attempt"] = now
                if result.get("ok"):
                    peer.update(last_ok=now, behind=False, error="",
                                generation=result.get("generation"),
                                epoch=result.get("epoch"), sha256=result.get("sha256"))
                else:
                    peer.update(behind=True, error=str(result.get("error", ""))[:500])
                    if result.get("epoch") is not None:
                        peer["epoch"] = result["epoch"]
        self.state.update(change)
        merged, self._merged = self._merged, False
        for name, result in results.items():
            self.pushes[name] = self.pushes.get(name, 0) + 1
            if not result.get("ok"):
                self.push_failures[name] = self.push_failures.get(name, 0) + 1
            if result.get("ok"):
                self._backoff.pop(name, None)
                self._next_try[name] = now if merged else now + HEARTBEAT_S
            else:
                delay = min(MAX_BACKOFF_S, self._backoff.get(name, 0.25) * 2)
                self._backoff[name] = delay
                self._next_try[name] = now + delay
                log.warning("peer %s is behind: %s", name, result.get("error"))
        self._step_down_if_outranked(config, results)

    def _step_down_if_outranked(self, config: Config, results: dict[str, dict]) -> None:
        higher = [(r.get("epoch"), name) for name, r in results.items()
                  if isinstance(r.get("epoch"), int) and r["epoch"] > config.epoch
                  and r.get("role") == "primary"]
        if not higher:
            return
        epoch, name = max(higher)

        def demote(doc: dict) -> None:
            if doc.get("epoch", 0) < epoch:
                doc["role"] = "secondary"
        self.services.store.update(demote, bump=False)
        audit("stepping down: peer %s is primary with epoch %d > %d", name, epoch, config.epoch)

    # --- hooks and background ---------------------------------------------------------------
    def after_write(self, config: Config) -> None:
        """Store hook: a committed write on the primary is pushed before the caller answers."""
        if config.role != "secondary" and config.peers:
            self.push_all()

    def after_revocation(self) -> None:
        self.after_write(self.services.store.current())

    def start(self) -> None:
        """Run the catch-up loop in this process once no other process runs it (a lock file:
        during a graceful reload the old worker holds it until it exits)."""
        self._thread = threading.Thread(target=self._run, name="replicator", daemon=True)
        self._thread.start()

    def _acquire(self) -> bool:
        path = os.path.join(self.services.basedir, "replicator.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        give_to_dir_owner(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _run(self) -> None:
        while not self._acquire():
            if self._stop.wait(1.0):
                return
        self._loop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None

    def _due(self, config: Config) -> bool:
        """A peer is due at its heartbeat, or after a short backoff when it is not in sync."""
        now = self.clock()
        peers = self.state.read()["peers"]
        for peer in config.peers:
            name = peer.name
            known = peers.get(name, {})
            due_at = self._next_try.get(name, 0.0)
            if not peer_in_sync(known, config):  # e.g. a ccmgradm write whose own push failed
                due_at = min(due_at, known.get("last_attempt", 0.0) + self._backoff.get(name, 0.5))
            if now >= due_at:
                return True
        return False

    def _loop(self) -> None:
        while not self._stop.wait(LOOP_TICK_S):
            try:
                config = self.services.store.current()
                if config.role != "secondary" and config.peers and self._due(config):
                    self.push_all()
            except Exception:  # the loop must outlive any single failure
                log.exception("replication loop error")


def attach(services: Services) -> Replicator:
    """Push every committed config write and every revocation made in this process."""
    replicator = Replicator(services)
    services.store.after_write.append(replicator.after_write)
    services.sessions.revocations.after_change.append(replicator.after_revocation)
    return replicator
