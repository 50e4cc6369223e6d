"""Noticing a ccmgr.yaml that was cut short or went back in time.

A file cut after some of its lines can still be valid YAML: 226 users became 58,
``generation`` 384 became 0 and ``port``/``bind_address`` were lost, so a restart would
have listened on every interface. So every file ccmgr writes starts with ``BEGIN`` and
ends with a line naming its generation and the sha256 of the lines in between; a file
that starts with ``BEGIN`` but does not end with that line is refused, like a syntax
error. A file without ``BEGIN`` (written by hand, or by cmon-proxy) loads as before; a
file edited by hand after ccmgr wrote it (hash differs) is accepted, as its end is there.

The store also records the (epoch, generation) it last wrote in ``<config>.generation``;
a file whose generation is older than that record is refused too (a stale copy put back,
or a cut that lost the key). An existing but empty file is refused as well.
"""

from __future__ import annotations

import hashlib
import json
import re

from ccmgr.errors import ConfigError
from ccmgr.fsutil import atomic_write

BEGIN = "# Written by ccmgr. Its last line marks the end: a file cut short is refused.\n"
_END = re.compile(r"^# ccmgr-end generation=(\d+) sha256=([0-9a-f]{64})\n?\Z")
RECORD_SUFFIX = ".generation"
_RECOVER = "restore the last good generation with `ccmgradm config rollback`"


def seal(body: bytes, generation: int) -> bytes:
    """The file as ccmgr writes it: BEGIN, the YAML, the end line."""
    digest = hashlib.sha256(body).hexdigest()
    return (BEGIN.encode() + body
            + f"# ccmgr-end generation={generation} sha256={digest}\n".encode())


def unseal(path: str, text: str) -> tuple[str, int | None]:
    """The YAML text and the generation the end line names (None for a file without
    BEGIN, or one edited by hand since); ConfigError for an empty or cut file."""
    if not text.strip():
        raise ConfigError(path, "the file is empty; " + _RECOVER)
    if not text.startswith(BEGIN):
        return text, None
    head, _, last = text.rstrip("\n").rpartition("\n")
    match = _END.match(last + "\n")
    if not match:
        raise ConfigError(path, "the file ends before ccmgr's end line: it was cut short; "
                          + _RECOVER)
    body = head[len(BEGIN):] + "\n" if len(head) > len(BEGIN) else ""
    digest = hashlib.sha256(body.encode()).hexdigest()
    return body, (int(match.group(1)) if digest == match.group(2) else None)


def check(path: str, marked: int | None, epoch: int, generation: int,
          seen: tuple[int, int] | None) -> None:
    """Refuse a document whose generation disagrees with its end line or is older than
    ``seen``, the record this node last wrote. Readers take no lock, and writers replace
    the file before the record: so the record must be read *before* the file, or a write
    in between makes a good file look older than the record."""
    if marked is not None and marked != generation:
        raise ConfigError(path, f"the end line says generation {marked} but the file has "
                          f"{generation}; " + _RECOVER, key="generation")
    if seen is not None and (epoch, generation) < seen:
        raise ConfigError(path, f"generation {generation} (epoch {epoch}) is older than "
                          f"generation {seen[1]} (epoch {seen[0]}) that this node last wrote; "
                          + _RECOVER + f", or delete {path}{RECORD_SUFFIX} to accept it",
                          key="generation")


def read_record(path: str) -> tuple[int, int] | None:
    try:
        with open(path + RECORD_SUFFIX, encoding="utf-8") as handle:
            data = json.load(handle)
        return int(data["epoch"]), int(data["generation"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged record must not lock the node out of its own file


def write_record(path: str, epoch: int, generation: int) -> None:
    # Not fsynced: a record lost in a crash is only older, which refuses nothing good.
    atomic_write(path + RECORD_SUFFIX,
                 json.dumps({"epoch": epoch, "generation": generation}).encode(), 0o600,
                 durable=False)
