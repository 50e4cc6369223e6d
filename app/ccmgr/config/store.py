"""The config store: cached reads that notice changes, locked read-modify-write updates.

Every writer (gunicorn workers, ccmgradm, the replication receiver) goes through
``update``: take the lock, read the file as it is *now*, apply the change, validate,
bump ``generation``, write atomically. So no update is lost and no reader ever sees
half a file. An invalid file is never replaced: readers keep the last good config and
``update`` refuses to write on top of it.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import yaml

from ccmgr.config import endmark, history
from ccmgr.config.schema import Config, ordered_for_write, parse_config
from ccmgr.errors import ConfigError
from ccmgr.fsutil import atomic_write, file_signature, locked, remove_stale_temps

T = TypeVar("T")
log = logging.getLogger("ccmgr.config")
# libyaml's C loader and dumper are about four times faster than the pure-Python ones.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
RACY_NS = 20_000_000  # several timer ticks at HZ=250


def _load_yaml(path: str, text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(path, f"YAML syntax error: {exc.problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, f"YAML error: {exc}") from None


def _copy(doc: dict) -> dict:
    """A deep copy of plain YAML data; pickle round-trips it about four times faster."""
    return pickle.loads(pickle.dumps(doc))  # noqa: S301 - our own data, never untrusted


def read_config(path: str) -> Config:
    """Read and validate the file; a missing file is an empty (all defaults) config."""
    seen = endmark.read_record(path)  # before the file: see endmark.check
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return parse_config(path, {})
    except UnicodeDecodeError:
        raise ConfigError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror}") from None
    text, marked = endmark.unseal(path, text)
    config = parse_config(path, _load_yaml(path, text))
    endmark.check(path, marked, config.epoch, config.generation, seen)
    return config


def dump_config(doc: dict) -> bytes:
    return yaml.dump(ordered_for_write(doc), Dumper=_Dumper, sort_keys=False,
                     default_flow_style=False, allow_unicode=True).encode()


def _write(path: str, config: Config) -> None:
    """The one way ccmgr.yaml is written: sealed with its end line, then recorded."""
    atomic_write(path, endmark.seal(dump_config(config.doc), config.generation))
    endmark.write_record(path, config.epoch, config.generation)


class ConfigStore:
    """Thread-safe access to one ccmgr.yaml."""

    def __init__(self, path: str, *, keep_history: bool = True) -> None:
        self.path = path
        self.keep_history = keep_history
        self.lock_path = path + ".lock"
        self._mutex = threading.Lock()
        self._cached: Config | None = None
        self._signature: tuple | None = None
        self._racy = False
        self.last_error: ConfigError | None = None
        self.listeners: list[Callable[[Config], None]] = []
        # Called after this process committed a write (outside the lock): replication.
        self.after_write: list[Callable[[Config], None]] = []

    def current(self) -> Config:
        """The config as on disk, re-read only when the file changed (one stat per call).

        If the file became invalid, the last good config is kept and ``last_error`` says why;
        with no good config at all, the error is raised.
        """
        signature = file_signature(self.path)
        with self._mutex:
            if self._cached is not None and signature == self._signature and not self._racy:
                return self._cached
            try:
                config = read_config(self.path)
            except ConfigError as exc:
                self.last_error = exc
                if self._cached is None:
                    raise
                self._signature = signature
                return self._cached
            self._set_cache(config, signature)
        for listener in self.listeners:
            listener(config)
        return config

    def _set_cache(self, config: Config, signature: tuple | None) -> None:
        self.last_error = None
        self._cached, self._signature = config, signature
        # A file changed again within the timestamp granularity could keep the same
        # signature (inode numbers are reused): trust the cache only once it is older.
        self._racy = signature is not None and time.time_ns() - signature[2] < RACY_NS

    def _remember(self, config: Config) -> None:
        """What we just wrote is the current config: no need to read it back."""
        with self._mutex:
            self._set_cache(config, file_signature(self.path))
        for listener in self.listeners:
            listener(config)

    def reload(self) -> Config:
        """Force a re-read (the /proxy/admin/reload endpoint); raises if the file is invalid."""
        with self._mutex:
            self._signature = None
        config = self.current()
        if self.last_error is not None:
            raise self.last_error
        return config

    def update(self, mutate: Callable[[dict], T], *, bump: bool = True,
               force: bool = False) -> T:
        """Apply ``mutate`` to a copy of the current document and write it back atomically.

        ``mutate`` may raise to abort (nothing is written) and returns a value passed back to
        the caller. The result is validated before it lands. A change that changes nothing
        writes nothing (unless ``force``, which materialises defaults and generated xids).
        """
        with locked(self.lock_path):
            remove_stale_temps(self.path)
            before = read_config(self.path)  # raises on an invalid file: never overwrite it
            doc = _copy(before.doc)
            result = mutate(doc)
            if doc == before.doc and not force:
                return result
            if bump:
                doc["generation"] = before.generation + 1
            after = parse_config(self.path, doc)
            if self.keep_history and after.sha256 != before.sha256 and before.generation:
                try:
                    history.save(os.path.dirname(os.path.abspath(self.path)), before.doc,
                                 again=False)  # usually kept when it was written
                except OSError as exc:  # a missing rollback point must not block the write
                    log.warning("could not keep generation %d for rollback: %s",
                                before.generation, exc)
            _write(self.path, after)
            self._keep(after)
            self._remember(after)
        for hook in self.after_write:
            hook(after)
        return result

    def write_doc(self, doc: dict) -> Config:
        """Replace the whole document (used by replication and rollback), under the lock."""
        with locked(self.lock_path):
            config = parse_config(self.path, doc)
            _write(self.path, config)
            self._keep(config)
            self._remember(config)
        return config

    def restore(self, doc: dict) -> Config:
        """Write a kept document over a file that cannot be used (cut short, empty, older
        than this node's record): as a generation after everything this node wrote."""
        with locked(self.lock_path):
            epoch, generation = endmark.read_record(self.path) or (0, 0)
            doc = {**doc, "epoch": max(int(doc.get("epoch", 0)), epoch),
                   "generation": max(int(doc.get("generation", 0)), generation) + 1}
            config = parse_config(self.path, doc)
            _write(self.path, config)
            self._keep(config)
            self._remember(config)
        return config

    def _keep(self, config: Config) -> None:
        """The generation just written is kept too: if the file is later found cut short,
        history/ still has the last good one, node settings included."""
        if not self.keep_history:
            return
        try:
            # Not fsynced (every write pays for it): the file itself is durable.
            history.save(os.path.dirname(os.path.abspath(self.path)), config.doc,
                         durable=False)
        except OSError as exc:
            log.warning("could not keep generation %d for rollback: %s", config.generation, exc)
