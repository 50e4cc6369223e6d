"""The cluster lists of the previous run, kept on disk so a restarted worker serves them at
once (stale, refreshed in the background) instead of waiting for every controller's login.

What is kept: for each controller, the service identity's (``DEFAULT_IDENTITY``) latest
"clusters" reply body as the controller sent it, the wall time it was fetched and a
fingerprint of the controller's settings. LDAP and cmon-auth users' data are never written.
The fingerprint is an HMAC, keyed by a value derived from the node's session secret, over
the settings that decide what the controller returns (``Instance.CLIENT_FIELDS`` and
``use_cmon_auth``): the file holds no password, nor an unkeyed hash of one. At load, an
entry is used only if its controller is still configured with the same fingerprint.

File (``<basedir>/cache/clusters.snapshot``, 0600 in a 0700 directory, replaced atomically):
``MAGIC``, the format version (2 bytes), a gzip stream (level 1: the JSON bodies compress
~10x and level 1 costs a fraction of the CPU of the default), SHA-256 of everything before it.
The stream holds a JSON header, then per entry two lengths, its JSON metadata and the reply.
A cut, foreign or older-format file is refused as a whole (one log line) and ignored.

Written from a background thread at most every ``INTERVAL`` seconds when a cluster list
changed since the last write, and once at orderly shutdown (``Keeper.stop``, bounded).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import hmac
import io
import json
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from ccmgr.cmon.errors import CmonError
from ccmgr.collectors import fetch
from ccmgr.collectors.cache import Cache
from ccmgr.collectors.clients import DEFAULT_IDENTITY
from ccmgr.config import Config
from ccmgr.config.model import Instance
from ccmgr.fsutil import atomic_write, private_dir, remove_stale_temps

log = logging.getLogger("ccmgr.collectors")

MAGIC = b"CCMGR-SNAPSHOT\n"
FORMAT = 1
KIND = "clusters"
PURPOSE = "collectors snapshot fingerprint v1"  # SecretFile.derive: the HMAC key
INTERVAL = 60.0         # seconds between writes at most
SHUTDOWN_BUDGET = 10.0  # seconds the final write may take (gunicorn allows 30)
# A picture older than this is more likely misleading than useful after a restart.
MAX_AGE = 24 * 3600.0
LEVEL = 1
_LENGTHS = struct.Struct(">II")
_HEAD = len(MAGIC) + 2
_SUM = hashlib.sha256().digest_size


class SnapshotError(ValueError):
    """The file cannot be trusted (cut, foreign, other format); it is ignored."""


@dataclass(frozen=True)
class Saved:
    """One controller's kept cluster list."""

    xid: str
    fingerprint: str
    fetched: datetime  # wall time, with its zone
    reply: bytes       # the controller's reply body, as received


def path_in(basedir: str) -> str:
    return os.path.join(basedir, "cache", "clusters.snapshot")


def fingerprint(instance: Instance, key: bytes) -> str:
    """Keyed digest of what decides the controller's reply (no secret can be read back)."""
    values = [instance.xid, *instance.client_fingerprint, bool(instance.use_cmon_auth)]
    return hmac.new(key, json.dumps(values).encode(), hashlib.sha256).hexdigest()


# -- the file --------------------------------------------------------------------------------
def encode(entries: Iterable[Saved], written: datetime) -> bytes:
    """The whole file; entries are compressed one by one, never joined uncompressed."""
    entries = list(entries)
    out = io.BytesIO()
    out.write(MAGIC + FORMAT.to_bytes(2, "big"))
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=LEVEL, mtime=0) as stream:
        _record(stream, {"written": written.isoformat(), "count": len(entries)}, b"")
        for e in entries:
            _record(stream, {"xid": e.xid, "fingerprint": e.fingerprint,
                             "fetched": e.fetched.isoformat()}, e.reply)
    out.write(hashlib.sha256(out.getbuffer()).digest())
    return out.getvalue()


def _record(stream: gzip.GzipFile, meta: dict, body: bytes) -> None:
    head = json.dumps(meta).encode()
    stream.write(_LENGTHS.pack(len(head), len(body)))
    stream.write(head)
    stream.write(body)


def decode(data: bytes) -> Iterator[Saved]:
    """The entries of a whole file, checked before the first one is handed out."""
    if len(data) < _HEAD + _SUM or not data.startswith(MAGIC):
        raise SnapshotError("not a ccmgr snapshot")
    version = int.from_bytes(data[len(MAGIC):_HEAD], "big")
    if version != FORMAT:
        raise SnapshotError(f"format {version}, this version reads {FORMAT}")
    view = memoryview(data)
    if not hmac.compare_digest(hashlib.sha256(view[:-_SUM]).digest(), data[-_SUM:]):
        raise SnapshotError("checksum mismatch (cut or changed file)")
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(view[_HEAD:-_SUM]), mode="rb") as stream:
            header, _ = _read_record(stream)
            for _ in range(int(header["count"])):
                meta, reply = _read_record(stream)
                yield Saved(str(meta["xid"]), str(meta["fingerprint"]),
                            _aware(datetime.fromisoformat(meta["fetched"])), reply)
            if stream.read(1):
                raise SnapshotError("data after the last entry")
    except (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, SnapshotError):
            raise
        raise SnapshotError(f"unreadable: {exc}") from exc


def _read_record(stream: gzip.GzipFile) -> tuple[dict, bytes]:
    lengths = stream.read(_LENGTHS.size)
    if len(lengths) != _LENGTHS.size:
        raise SnapshotError("cut short")
    head_len, body_len = _LENGTHS.unpack(lengths)
    head, body = stream.read(head_len), stream.read(body_len)
    if len(head) != head_len or len(body) != body_len:
        raise SnapshotError("cut short")
    meta = json.loads(head)
    if not isinstance(meta, dict):
        raise SnapshotError("bad entry")
    return meta, body


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise SnapshotError("a time without its zone")
    return when


# -- the keeper: load at start, write in the background ----------------------------------------
class Keeper:
    """Loads the kept cluster lists into ``cache`` and writes them back as they change.

    ``settled()`` is the config the cache's entries were fetched under (the client
    registry's, set once entries of changed controllers are dropped): entries are labelled
    with its fingerprints, never with those of a config not yet applied to the cache.
    """

    def __init__(self, path: str, key: bytes, cache: Cache,
                 settled: Callable[[], Config | None], *, interval: float = INTERVAL) -> None:
        self.path = path
        self.key = key
        self.cache = cache
        self.settled = settled
        self.interval = interval
        self.writes = 0  # files written (tests and logs)
        self._written: dict[str, tuple] | None = None  # what the file holds: xid -> (version, fp)
        self._lock = threading.Lock()  # one write at a time (the thread, or stop)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- load ----------------------------------------------------------------------------------
    def load(self, config: Config) -> int:
        """Seed the cache with the entries still valid under ``config``; how many."""
        with contextlib.suppress(FileNotFoundError):
            remove_stale_temps(self.path)  # a write cut by a kill
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            log.warning("snapshot %s not read: %s", self.path, exc)
            return 0
        wanted = {i.xid: fingerprint(i, self.key) for i in config.controllers if not i.useldap}
        wall_now = self.cache.wall()
        seeded, dropped = {}, 0
        try:
            for saved in decode(data):
                age = (wall_now - saved.fetched).total_seconds()
                if wanted.get(saved.xid) != saved.fingerprint or age > MAX_AGE:
                    dropped += 1  # removed or changed controller, or too old
                    continue
                try:
                    payload = fetch.clusters_payload(saved.reply)
                except CmonError as exc:
                    log.info("snapshot entry of %s not used: %s", saved.xid, exc.message)
                    dropped += 1
                    continue
                except Exception:  # a bug must not stop the start, this file stays
                    log.exception("snapshot entry of %s not used", saved.xid)
                    dropped += 1
                    continue
                key = (DEFAULT_IDENTITY, saved.xid, KIND)
                if self.cache.seed(key, payload, saved.fetched, age):
                    seeded[saved.xid] = (self.cache.get(key).version, saved.fingerprint)
        except SnapshotError as exc:
            log.warning("snapshot %s ignored: %s", self.path, exc)
            return 0
        self._written = seeded if not dropped else None  # else the file is rewritten
        log.info("snapshot: %d cluster lists from the previous run served until refreshed "
                 "(%d not used)", len(seeded), dropped)
        return len(seeded)

    # -- write ---------------------------------------------------------------------------------
    def _current(self) -> tuple[dict[str, tuple], list[Saved]]:
        config = self.settled()
        if config is None:
            return {}, []
        instances = {i.xid: i for i in config.controllers if not i.useldap}
        state, entries = {}, []
        for (identity, xid, kind), entry in self.cache.items():  # type: ignore[misc]
            instance = instances.get(xid)
            if identity != DEFAULT_IDENTITY or kind != KIND or instance is None:
                continue
            reply = entry.data.get("reply") if isinstance(entry.data, dict) else None
            if not isinstance(reply, bytes) or entry.fetched is None:
                continue
            fp = fingerprint(instance, self.key)
            state[xid] = (entry.version, fp)
            entries.append(Saved(xid, fp, entry.fetched, reply))
        if self.settled() is not config:  # the config changed under us: next time
            return self._written or {}, []
        return state, entries

    def save(self) -> bool:
        """Write the file if a cluster list changed since the last write; whether it did."""
        with self._lock:
            state, entries = self._current()
            if state == self._written or (not entries and self._written is None):
                return False
            started = time.monotonic()
            data = encode(entries, self.cache.wall())
            private_dir(os.path.dirname(self.path))
            atomic_write(self.path, data, 0o600)
            self._written = state
            self.writes += 1
            log.debug("snapshot: %d cluster lists, %d bytes, written in %.2f s",
                      len(entries), len(data), time.monotonic() - started)
            return True

    def _save_logged(self) -> None:
        try:
            self.save()
        except Exception:  # a full disk must not stop the writer, nor the service
            log.exception("snapshot %s not written", self.path)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ccmgr-snapshot",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._save_logged()
        self._save_logged()  # the last one, at orderly shutdown

    def stop(self, timeout: float = SHUTDOWN_BUDGET) -> None:
        """Write once more (if anything changed) and stop, waiting at most ``timeout``: a
        write cut by the process exit leaves the previous file in place."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
