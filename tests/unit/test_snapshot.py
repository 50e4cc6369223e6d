"""collectors.snapshot: the previous run's cluster lists on disk, and what is trusted of them."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import stat
import time
from concurrent.futures import Future
from datetime import datetime, timedelta

import pytest
from ccmgr.collectors import fetch, snapshot
from ccmgr.collectors.cache import Cache, Entry
from ccmgr.collectors.clients import DEFAULT_IDENTITY
from ccmgr.config.schema import parse_config

KEY = b"k" * 64
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=datetime.now().astimezone().tzinfo)


@pytest.fixture(autouse=True)
def _see_ccmgr_records(caplog):
    logger = logging.getLogger("ccmgr")  # logsetup may have stopped propagation
    logger.addHandler(caplog.handler)
    yield
    logger.removeHandler(caplog.handler)


class Clock:
    def __init__(self) -> None:
        self.mono, self.wall = 1000.0, NOW

    def tick(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


def reply_of(n: int) -> bytes:
    clusters = [{"cluster_id": i, "cluster_name": f"c{i}", "cluster_type": "GALERA",
                 "state": "STARTED", "hosts": [{"hostname": f"h{i}", "nodetype": "galera",
                                                "hoststatus": "CmonHostOnline"}]}
                for i in range(1, n + 1)]
    return json.dumps({"request_status": "Ok", "clusters": clusters}).encode()


def config_of(*instances: dict):
    return parse_config("/x/ccmgr.yaml", {"instances": list(instances)})


A = {"xid": "xid-a", "url": "10.0.0.1:9501", "username": "ccmgr", "password": "s3cret-a"}
B = {"xid": "xid-b", "url": "10.0.0.2:9501", "username": "ccmgr", "password": "s3cret-b"}


def keeper_for(tmp_path, config, clock: Clock, cache: Cache | None = None):
    cache = cache or Cache(clock=lambda: clock.mono, wall=lambda: clock.wall)
    return snapshot.Keeper(str(tmp_path / "cache" / "clusters.snapshot"), KEY, cache,
                           lambda: config)


def fill(cache: Cache, xid: str, reply: bytes, identity: str = DEFAULT_IDENTITY) -> None:
    cache._entries[(identity, xid, "clusters")] = Entry(
        fetch.clusters_payload(reply), cache.wall(), cache.clock(), None, cache.clock(), 1)


def saved_and_restarted(tmp_path, clock: Clock, before, after, age: float = 30.0):
    """Write under config ``before``, restart ``age`` seconds later under ``after``."""
    first = keeper_for(tmp_path, before, clock)
    fill(first.cache, "xid-a", reply_of(2))
    fill(first.cache, "xid-b", reply_of(3))
    assert first.save()
    clock.tick(age)
    second = keeper_for(tmp_path, after, clock)
    return second, second.load(after)


def test_round_trip_serves_the_same_data_stale_with_their_real_age(tmp_path):
    clock = Clock()
    config = config_of(A, B)
    keeper, loaded = saved_and_restarted(tmp_path, clock, config, config, age=42.0)
    assert loaded == 2
    entry = keeper.cache.get((DEFAULT_IDENTITY, "xid-b", "clusters"))
    assert [c["cluster_id"] for c in entry.data["clusters"]] == [1, 2, 3]
    assert entry.data["reply"] == reply_of(3)
    assert entry.fetched == NOW and entry.age(clock.mono) == pytest.approx(42.0)
    assert entry.version > 0 and keeper.cache.changes == 2
    # Stale, not cold: served at once while one refresh starts.
    submitted = []

    class Pool:
        def submit(self, fn, *args):
            submitted.append(fn)
            return Future()

    served, wait_for = keeper.cache.start((DEFAULT_IDENTITY, "xid-b", "clusters"),
                                          lambda: lambda: None, Pool(), ttl=3600, error_ttl=10)
    assert wait_for is None and served is entry and len(submitted) == 1


def test_a_changed_url_or_password_drops_only_that_controllers_entry(tmp_path):
    for change in ({"url": "10.0.0.9:9501"}, {"password": "other"}, {"username": "x"},
                   {"use_cmon_auth": True}):
        clock = Clock()
        keeper, loaded = saved_and_restarted(tmp_path, clock, config_of(A, B),
                                             config_of(A, {**B, **change}))
        assert loaded == 1, change
        assert keeper.cache.get((DEFAULT_IDENTITY, "xid-b", "clusters")).data is None
        assert keeper.cache.get((DEFAULT_IDENTITY, "xid-a", "clusters")).data is not None


def test_a_removed_controller_is_dropped_and_the_file_rewritten_without_it(tmp_path):
    clock = Clock()
    keeper, loaded = saved_and_restarted(tmp_path, clock, config_of(A, B), config_of(A))
    assert loaded == 1
    assert keeper.cache.get((DEFAULT_IDENTITY, "xid-b", "clusters")).data is None
    assert keeper.save()  # what the file holds differs from what was loaded
    with open(keeper.path, "rb") as handle:
        assert [s.xid for s in snapshot.decode(handle.read())] == ["xid-a"]


def test_another_node_secret_trusts_nothing(tmp_path):
    clock = Clock()
    config = config_of(A, B)
    first = keeper_for(tmp_path, config, clock)
    fill(first.cache, "xid-a", reply_of(1))
    first.save()
    other = keeper_for(tmp_path, config, clock)
    other.key = b"o" * 64
    assert other.load(config) == 0


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign", "format", "empty"])
def test_a_damaged_file_is_ignored_with_one_log_line(tmp_path, caplog, damage):
    clock = Clock()
    config = config_of(A, B)
    first = keeper_for(tmp_path, config, clock)
    fill(first.cache, "xid-a", reply_of(2))
    first.save()
    with open(first.path, "rb") as handle:
        data = handle.read()
    data = {"truncate": data[: len(data) // 2],
            "flip": data[:40] + bytes([data[40] ^ 1]) + data[41:],
            "foreign": b"\x1f\x8b" + data[2:],
            "format": data[:len(snapshot.MAGIC)] + b"\x00\x09" + data[len(snapshot.MAGIC) + 2:],
            "empty": b""}[damage]
    with open(first.path, "wb") as handle:
        handle.write(data)
    second = keeper_for(tmp_path, config, clock)
    assert second.load(config) == 0
    assert second.cache.items() == []
    # A set: the record may reach caplog twice (propagation and the fixture's handler).
    lines = [r for r in set(caplog.records) if "snapshot" in r.getMessage()]
    assert len(lines) == 1 and "ignored" in lines[0].getMessage()


def test_a_checksummed_file_with_a_cut_stream_is_refused(tmp_path):
    good = snapshot.encode([snapshot.Saved("xid-a", "fp", NOW, reply_of(2))], NOW)
    body = good[:-32]
    cut = body[:-20]
    with pytest.raises(snapshot.SnapshotError):
        list(snapshot.decode(cut + hashlib.sha256(cut).digest()))


def test_an_unusable_reply_drops_that_entry_only(tmp_path):
    clock = Clock()
    config = config_of(A, B)
    first = keeper_for(tmp_path, config, clock)
    fill(first.cache, "xid-a", reply_of(2))
    first.cache._entries[(DEFAULT_IDENTITY, "xid-b", "clusters")] = Entry(
        {"clusters": [], "reply": b"<html>"}, NOW, 1000.0, None, 1000.0, 2)
    first.save()
    second = keeper_for(tmp_path, config, clock)
    assert second.load(config) == 1


def test_file_and_directory_are_private(tmp_path):
    clock = Clock()
    keeper = keeper_for(tmp_path, config_of(A), clock)
    fill(keeper.cache, "xid-a", reply_of(1))
    keeper.save()
    assert stat.S_IMODE(os.stat(keeper.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(keeper.path)).st_mode) == 0o700


def test_no_secret_and_no_other_identity_is_written(tmp_path):
    clock = Clock()
    ldap = {"xid": "xid-l", "url": "10.0.0.3:9501", "useldap": True}
    keeper = keeper_for(tmp_path, config_of(A, ldap), clock)
    fill(keeper.cache, "xid-a", reply_of(1))
    fill(keeper.cache, "xid-l", b'{"clusters": [{"cluster_id": 7, "cluster_name": "mine"}]}',
         identity="alice")
    fill(keeper.cache, "xid-a", b'{"clusters": [{"cluster_name": "alices"}]}', identity="alice")
    keeper.save()
    with open(keeper.path, "rb") as handle:
        raw = handle.read()
    saved = list(snapshot.decode(raw))
    assert [(s.xid, s.reply) for s in saved] == [("xid-a", reply_of(1))]
    plain = gzip.decompress(raw[len(snapshot.MAGIC) + 2:-32])
    assert b"s3cret-a" not in plain and b"alice" not in plain and b"mine" not in plain


def test_writes_only_when_a_cluster_list_changed(tmp_path):
    clock = Clock()
    keeper = keeper_for(tmp_path, config_of(A), clock)
    assert not keeper.save()  # nothing to keep
    fill(keeper.cache, "xid-a", reply_of(1))
    assert keeper.save() and not keeper.save()
    keeper.cache._entries[(DEFAULT_IDENTITY, "xid-a", "ping")] = Entry({}, NOW, 1, None, 1, 9)
    assert not keeper.save()  # another kind is not kept
    fill(keeper.cache, "xid-a", reply_of(2))
    entry = keeper.cache._entries[(DEFAULT_IDENTITY, "xid-a", "clusters")]
    keeper.cache._entries[(DEFAULT_IDENTITY, "xid-a", "clusters")] = Entry(
        entry.data, entry.fetched, entry.fetched_at, None, entry.attempted_at, 2)
    assert keeper.save() and keeper.writes == 2
    # Nothing changed since the load: nothing to write.
    second = keeper_for(tmp_path, config_of(A), clock)
    assert second.load(config_of(A)) == 1 and not second.save()


def test_data_not_yet_fetched_under_the_settled_config_are_labelled_with_it(tmp_path):
    # The config changed the controller's password but the cache has not been synced:
    # the data are labelled with the config they were fetched under, so a restart under
    # the new config does not trust them.
    clock = Clock()
    old, new = config_of(A), config_of({**A, "password": "new"})
    keeper = keeper_for(tmp_path, old, clock)
    fill(keeper.cache, "xid-a", reply_of(1))
    keeper.save()
    assert keeper_for(tmp_path, new, clock).load(new) == 0


def test_too_old_or_unknown_entries_are_not_trusted(tmp_path):
    clock = Clock()
    config = config_of(A, B)
    _, loaded = saved_and_restarted(tmp_path, clock, config, config,
                                    age=snapshot.MAX_AGE + 1)
    assert loaded == 0


def test_the_background_writer_writes_and_writes_once_more_at_stop(tmp_path):
    clock = Clock()
    keeper = keeper_for(tmp_path, config_of(A), clock)
    keeper.interval = 0.05
    keeper.start()
    fill(keeper.cache, "xid-a", reply_of(1))
    for _ in range(100):
        if keeper.writes:
            break
        time.sleep(0.02)
    assert keeper.writes == 1
    keeper.interval = 3600
    fill(keeper.cache, "xid-a", reply_of(2))
    entry = keeper.cache._entries[(DEFAULT_IDENTITY, "xid-a", "clusters")]
    keeper.cache._entries[(DEFAULT_IDENTITY, "xid-a", "clusters")] = Entry(
        entry.data, entry.fetched, entry.fetched_at, None, entry.attempted_at, 5)
    keeper.stop(timeout=5)
    assert keeper.writes == 2
    with open(keeper.path, "rb") as handle:
        assert [s.reply for s in snapshot.decode(handle.read())] == [reply_of(2)]


def test_a_stale_temp_file_of_a_cut_write_is_removed_at_load(tmp_path):
    clock = Clock()
    keeper = keeper_for(tmp_path, config_of(A), clock)
    os.makedirs(os.path.dirname(keeper.path))
    temp = os.path.join(os.path.dirname(keeper.path), ".clusters.snapshot.abc.tmp")
    open(temp, "wb").close()
    assert keeper.load(config_of(A)) == 0
    assert not os.path.exists(temp)


def test_seed_never_replaces_data_or_a_running_fetch():
    cache = Cache(clock=lambda: 50.0)
    cache._entries["k"] = Entry({"x": 1}, NOW, 40.0, None, 40.0, 1)
    assert not cache.seed("k", {"x": 2}, NOW, 5.0)
    assert cache.get("k").data == {"x": 1}
    assert cache.seed("j", {"x": 2}, NOW, 5.0)
    entry = cache.get("j")
    assert entry.age(50.0) == 5.0 and entry.version == cache._serial == 1
    assert entry.attempted_at != 0.0 and entry.expires(1e9, 1e9) < 0


def test_a_bug_rebuilding_one_entry_does_not_stop_the_start(tmp_path, monkeypatch, caplog):
    clock = Clock()
    config = config_of(A, B)
    first = keeper_for(tmp_path, config, clock)
    fill(first.cache, "xid-a", reply_of(1))
    fill(first.cache, "xid-b", reply_of(2))
    first.save()
    rebuild = fetch.clusters_payload

    def buggy(reply: bytes) -> dict:
        if reply == reply_of(1):
            raise KeyError("cluster_id")
        return rebuild(reply)

    monkeypatch.setattr(fetch, "clusters_payload", buggy)
    second = keeper_for(tmp_path, config, clock)
    assert second.load(config) == 1
    assert second.cache.get((DEFAULT_IDENTITY, "xid-b", "clusters")).data is not None
