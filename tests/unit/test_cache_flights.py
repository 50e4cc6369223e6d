"""Cache flights: a fetch orphaned by ``drop`` neither stores its old data nor ends the
newer flight of the same key; a waiting caller does not hold the entry being replaced."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from ccmgr.collectors.cache import Cache, Entry, Pending, settle

KEY = ("svc", "xid1", "clusters")


def test_an_orphaned_fetch_neither_stores_nor_ends_the_newer_flight():
    cache = Cache()
    release_old, release_new = threading.Event(), threading.Event()

    def fetch(value: str, gate: threading.Event):
        def run():
            gate.wait(5)
            return value
        return run

    with ThreadPoolExecutor(4) as pool:
        _, old = cache.start(KEY, lambda: fetch("old settings", release_old), pool,
                             ttl=60, error_ttl=10)
        cache.drop(lambda key: key == KEY)  # the controller was edited meanwhile
        _, new = cache.start(KEY, lambda: fetch("new settings", release_new), pool,
                             ttl=60, error_ttl=10)
        assert new is not old
        release_old.set()
        old.result(5)
        assert cache.get(KEY).data is None  # the orphan stored nothing
        _, joined = cache.start(KEY, lambda: fetch("third", release_new), pool,
                                ttl=60, error_ttl=10)
        assert joined is new  # and the newer flight is still the one to join
        release_new.set()
        new.result(5)
    assert cache.get(KEY).data == "new settings"


def test_a_wait_that_runs_out_serves_the_current_entry_with_a_timeout():
    cache = Cache()
    gate = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        cache.start(KEY, lambda: lambda: "first", pool, ttl=60, error_ttl=10)[1].result(5)
        entry, flight = cache.start(KEY, lambda: lambda: gate.wait(5) and "second", pool,
                                    ttl=60, error_ttl=10, force=True)
        assert entry.data == "first" and flight is not None
        pending = {"k": Pending(KEY, None, flight)}  # nothing of the old entry is held
        settled = settle(pending, deadline=0.0, current=cache.get)
        assert settled["k"].data == "first"
        assert "timeout" in settled["k"].error.message
        gate.set()
        flight.result(5)
    done = settle({"k": Pending(KEY, None, flight)}, 0.0, cache.get)
    assert done["k"].data == "second" and done["k"].error is None
    assert settle({"k": Pending(KEY, Entry(data="kept"), None)}, 0.0, cache.get)["k"].data \
        == "kept"


def test_refreshes_nobody_waits_for_run_in_the_background_pool():
    """Cold and forced fetches (a caller waits) take the wide pool; refreshes of stale
    data (served meanwhile) the narrow one, so they cannot crowd out the requests."""
    now = [100.0]  # (0.0 is the cache's "never attempted")
    cache = Cache(clock=lambda: now[0])
    used = []

    class Recording(ThreadPoolExecutor):
        def __init__(self, name: str) -> None:
            super().__init__(1)
            self.name = name

        def submit(self, fn, /, *args, **kwargs):
            used.append(self.name)
            return super().submit(fn, *args, **kwargs)

    with Recording("wide") as wide, Recording("narrow") as narrow:
        def start(**kw):
            return cache.start(KEY, lambda: lambda: "data", wide, ttl=60, error_ttl=10,
                               background=narrow, **kw)

        _, cold = start()
        assert cold is not None and cold.result(5).data == "data"  # waited for
        now[0] = 161.0  # stale from here on
        entry, stale = start()
        assert stale is None and entry.data == "data"  # served at once ...
        cache._flights[KEY].result(5)  # ... while its refresh ran
        _, forced = start(force=True)
        assert forced is not None
        forced.result(5)
    assert used == ["wide", "narrow", "wide"]
