"""Rendered replies of the aggregate endpoints, kept while their data are unchanged
(``ReplyMemo``; the idea itself is ``ccmgr.versionedmemo``)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from ccmgr.cmon.model import ControllerData, Who, versions
from ccmgr.versionedmemo import VersionedMemo


class ReplyMemo(VersionedMemo):
    """Rendered replies by (request, identity) with the data versions they were made from:
    dashboards repeat the same queries, and a view over 2000 clusters costs far more than
    a lookup. Any refresh of any controller's data changes the versions.
    ``hits``/``misses`` count lookups (read by the metrics; an unlocked += may lose a
    count under a race, which an estimate can afford)."""

    hits = 0
    misses = 0

    @staticmethod
    def key(path: str, request: Any, who: Who, data: Sequence[ControllerData],
            kinds: Sequence[str]) -> tuple[Hashable, Hashable]:
        """(the query, the versions of the data it reads)."""
        return (path, request, who, kinds), versions(data)

    def get(self, key: tuple[Hashable, Hashable]) -> bytes | None:
        body = self.lookup(*key)
        if body is None:
            self.misses += 1
        else:
            self.hits += 1
        return body

    def put(self, key: tuple[Hashable, Hashable], value: bytes) -> None:
        self.store(key[0], key[1], value)
