"""The last few shared configs, kept so an operator can roll back (``ccmgradm config``)."""

from __future__ import annotations

import contextlib
import json
import os
import time

from ccmgr.config.schema import SHARED_KEYS, shared_part, shared_sha256
from ccmgr.fsutil import atomic_write, private_dir

HISTORY_DIR = "history"
HISTORY_KEEP = 10


def save(basedir: str, doc: dict, *, durable: bool = True, again: bool = True) -> None:
    """Keep ``doc``; with ``again=False`` a generation already kept is not written again
    (the store keeps each generation as it writes it)."""
    directory = os.path.join(basedir, HISTORY_DIR)
    private_dir(directory)
    name = f"{doc.get('epoch', 0):06d}-{doc.get('generation', 0):09d}.json"
    if not again and os.path.exists(os.path.join(directory, name)):
        return
    record = {"epoch": doc.get("epoch", 0), "generation": doc.get("generation", 0),
              "sha256": shared_sha256(doc), "saved_at": time.time(),
              "shared": shared_part(doc),
              # node settings too, so a cut file can be restored whole
              "local": {k: v for k, v in doc.items()
                        if k not in SHARED_KEYS and k not in ("generation", "epoch")}}
    atomic_write(os.path.join(directory, name), json.dumps(record).encode(), 0o600,
                 durable=durable)
    for old in sorted(os.listdir(directory))[:-HISTORY_KEEP]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(directory, old))


def load(basedir: str) -> list[dict]:
    directory = os.path.join(basedir, HISTORY_DIR)
    records = []
    with contextlib.suppress(FileNotFoundError):
        for name in sorted(os.listdir(directory)):
            with open(os.path.join(directory, name), encoding="utf-8") as handle:
                records.append(json.load(handle))
    return records
