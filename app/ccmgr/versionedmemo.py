"""Results that stay valid while their inputs are unchanged: one idea, one class.

A ``VersionedMemo`` keeps, per query, one value and the versions of the inputs it was
made from; a lookup with other versions misses, and the new value then replaces the old
one, so a superseded result is never served and never kept (memory is bounded by the
number of distinct queries). Inputs are versioned by the cache: every payload it fetched
carries its own serial number (``cache.Entry.version``), so versions are plain integers,
never object ids.

Users: the collectors' warm gather results (``Collectors.gather``), the rendered replies
of the aggregate endpoints (``collectors.memo.ReplyMemo``) and the indexed cluster tables
of the views (``views.clustertable``). A leaf module, so that every layer may use it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

MEMO_SIZE = 128


class VersionedMemo:
    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, query: Hashable, versions: Hashable) -> Any | None:
        with self._lock:
            held = self._items.get(query)
            if held is None or held[0] != versions:
                return None
            self._items.move_to_end(query)
            return held[1]

    def store(self, query: Hashable, versions: Hashable, value: Any) -> None:
        with self._lock:
            self._items[query] = (versions, value)
            self._items.move_to_end(query)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def keep_only(self, current: Callable[[Hashable], bool]) -> None:
        """Forget every value whose versions are no longer ``current``."""
        with self._lock:
            for query in [q for q, (v, _) in self._items.items() if not current(v)]:
                del self._items[query]

    def values(self) -> list[Any]:
        with self._lock:
            return [value for _, value in self._items.values()]

    def __len__(self) -> int:
        return len(self._items)
