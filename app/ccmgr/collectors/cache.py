"""Per-(identity, controller, kind) cache with TTL, single flight and stale-while-revalidate.

* fresh (younger than the TTL): served as is;
* stale but present: served at once, one background refresh is started;
* missing, or ``force``: the caller waits for the refresh until its deadline;
* a refresh already running is joined, never duplicated (single flight), so N requests
  against a cold cache cause exactly one fetch per controller and kind.

A failed refresh keeps the last good data (reported with its age) and records the error;
failures are retried after ``error_ttl``, so a dead controller is not hammered.
The daemon runs one worker process, so this in-process cache is exact.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ccmgr.cmon.errors import BadReply, CmonError, Timeout

log = logging.getLogger("ccmgr.collectors")

# The attempt time of seeded entries: expired under any TTL, and not 0.0 (never attempted).
SEEDED_ATTEMPT = -math.inf


@dataclass(frozen=True)
class Entry:
    data: Any = None                   # last good payload; None = never fetched
    fetched: datetime | None = None    # wall time of that payload
    fetched_at: float = 0.0            # monotonic time of that payload
    error: CmonError | None = None     # error of the latest attempt, None if it worked
    attempted_at: float = 0.0          # monotonic time of the latest attempt
    version: int = 0                   # unique per fetched payload; 0 = never fetched

    def age(self, now: float) -> float | None:
        return None if self.data is None else max(0.0, now - self.fetched_at)

    def expires(self, ttl: float, error_ttl: float) -> float:
        """When this entry stops being fresh (monotonic; 0 if never attempted)."""
        if self.attempted_at == 0.0:
            return 0.0
        return self.attempted_at + (error_ttl if self.error is not None else ttl)


class Cache:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = lambda: datetime.now().astimezone()) -> None:
        self.clock = clock
        self.wall = wall
        self._entries: dict[Hashable, Entry] = {}
        self._flights: dict[Hashable, Future] = {}
        self._lock = threading.Lock()
        self.fetches = 0  # completed fetch attempts (tests and stats)
        self.changes = 0  # bumped whenever an entry is written or dropped
        # Called (outside the lock) after every change: results derived from the entries
        # (Collectors' gather results) let go of the data it replaced at once.
        self.on_change: Callable[[], None] | None = None
        self._serial = 0  # the version of the latest data fetched (Entry.version)

    def _fresh(self, entry: Entry, ttl: float, error_ttl: float, now: float) -> bool:
        return now < entry.expires(ttl, error_ttl)

    def start(self, key: Hashable, make_fetch: Callable[[], Callable[[], Any]],
              executor: Executor, *, ttl: float, error_ttl: float,
              force: bool = False, background: Executor | None = None
              ) -> tuple[Entry, Future | None]:
        """The current entry and, if the caller should wait, the refresh to wait for.

        ``make_fetch()`` builds the fetch only when one has to start (the warm path of a
        request touches every controller, so it must stay cheap). A refresh nobody waits
        for (stale data served meanwhile) runs in ``background`` when given: a narrower
        pool, so that hundreds of them do not take the interpreter from the requests."""
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key, Entry())
            flight = self._flights.get(key)
            if not force and self._fresh(entry, ttl, error_ttl, now):
                return entry, None
            # Stale data is served at once while the refresh runs; cold or forced waits.
            must_wait = force or entry.attempted_at == 0.0
            if flight is None:
                mine: list[Future] = []  # filled before _run can take the lock
                runner = executor if must_wait or background is None else background
                flight = runner.submit(self._run, key, make_fetch(), mine)
                mine.append(flight)
                self._flights[key] = flight
            return entry, (flight if must_wait else None)

    def _run(self, key: Hashable, fetch: Callable[[], Any], mine: list[Future]) -> Entry:
        try:
            data, error = fetch(), None
        except CmonError as exc:
            data, error = None, exc
        except Exception as exc:  # a bug or an odd reply must not kill the flight
            log.exception("fetch %r failed unexpectedly", key)
            data, error = None, BadReply(f"unexpected reply handling error: {exc}")
        now = self.clock()
        with self._lock:
            old = self._entries.get(key, Entry())
            if error is None:
                self._serial += 1
                entry = Entry(data, self.wall(), now, None, now, self._serial)
            else:  # the data, and so their version, stay
                entry = replace(old, error=error, attempted_at=now)
            # Only the key's own flight writes: one orphaned by ``drop`` (its controller was
            # changed or removed) must neither store its old data nor end a newer flight.
            stored = bool(mine) and self._flights.get(key) is mine[0]
            if stored:
                self._entries[key] = entry
                self._flights.pop(key, None)
                self.changes += 1
            self.fetches += 1
        if stored:
            self._changed()
        return entry

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def seed(self, key: Hashable, data: Any, fetched: datetime, age: float) -> bool:
        """Put data kept from a previous run (``collectors.snapshot``) in an empty slot.

        The entry is stale at once (its attempt predates every clock reading, whatever the
        TTL) but not cold: it is served without waiting while the first use refreshes it.
        Its monotonic time is now minus its real ``age``, so age headers and metrics tell
        the truth. A slot already holding data or a running fetch is left alone (False)."""
        now = self.clock()
        with self._lock:
            if key in self._entries or key in self._flights:
                return False
            self._serial += 1
            self._entries[key] = Entry(data, fetched, now - max(0.0, age), None,
                                       SEEDED_ATTEMPT, self._serial)
            self.changes += 1
        self._changed()
        return True

    def get(self, key: Hashable) -> Entry:
        with self._lock:
            return self._entries.get(key, Entry())

    def drop(self, match: Callable[[Hashable], bool]) -> None:
        """Forget entries (and orphan running flights) whose key matches."""
        with self._lock:
            for key in [k for k in self._entries if match(k)]:
                del self._entries[key]
            for key in [k for k in self._flights if match(k)]:
                del self._flights[key]
            self.changes += 1
        self._changed()

    def items(self) -> list[tuple[Hashable, Entry]]:
        """Every entry as it is now (read by the metrics; never starts a fetch)."""
        with self._lock:
            return list(self._entries.items())

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._entries) + [k for k in self._flights if k not in self._entries]


@dataclass(frozen=True)
class Pending:
    """A started lookup: the cache ``key``, the entry to serve, and the refresh to wait for.

    While a caller waits, ``entry`` is None and the key's current entry is read again only
    if the wait runs out: a forced refresh of every controller would otherwise keep every
    payload it replaces alive until the last reply came in (twice the estate in memory)."""

    key: Hashable
    entry: Entry | None
    flight: Future | None


def settle(pending: dict[Hashable, Pending], deadline: float,
           current: Callable[[Hashable], Entry],
           clock: Callable[[], float] = time.monotonic) -> dict[Hashable, Entry]:
    """Wait for the refreshes callers must wait for, but never past ``deadline``;
    ``current`` reads a cache key's entry as it is then."""
    futures = [p.flight for p in pending.values() if p.flight is not None]
    if futures:
        wait(futures, timeout=max(0.0, deadline - clock()))
    out = {}
    for name, p in pending.items():
        if p.flight is None:
            out[name] = p.entry
        elif p.flight.done():
            out[name] = p.flight.result()
        else:
            entry = current(p.key)
            waited = Timeout("no reply within the timeout; still trying in the background")
            out[name] = replace(entry, error=entry.error or waited)
    return out
