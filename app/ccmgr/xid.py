"""rs/xid-compatible ids: 12 bytes (time, machine, pid, counter) as 20 base32hex chars."""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets
import socket
import threading
import time

_ALPHABET = "0123456789abcdefghijklmnopqrstuv"
_MACHINE = hashlib.md5(socket.gethostname().encode(), usedforsecurity=False).digest()[:3]
_counter = itertools.count(secrets.randbelow(1 << 24))
_lock = threading.Lock()


def _encode(raw: bytes) -> str:
    bits = int.from_bytes(raw, "big") << 4  # 96 bits padded to 100 = 20 chars of 5 bits
    return "".join(_ALPHABET[(bits >> (5 * i)) & 31] for i in range(19, -1, -1))


def new_xid(now: float | None = None) -> str:
    """A new 20-character xid; lexicographic order follows creation time."""
    with _lock:
        count = next(_counter) & 0xFFFFFF
    raw = (int(now if now is not None else time.time()).to_bytes(4, "big") + _MACHINE
           + (os.getpid() & 0xFFFF).to_bytes(2, "big") + count.to_bytes(3, "big"))
    return _encode(raw)


def is_xid(value: str) -> bool:
    return len(value) == 20 and all(c in _ALPHABET for c in value)
