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
