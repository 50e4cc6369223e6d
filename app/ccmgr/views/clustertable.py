"""Every cached cluster of a gather result, indexed for clusters/list: orders and filters
as bit sets, so a query never seen before costs a few big-integer operations instead of a
Python loop over every cluster (20,000 at 500 controllers; issue 17).

An order is a permutation of the clusters, sorted once (stably, as ``sorted`` would sort
the filtered list: filtering a stably sorted list gives the same sequence). A filter value
is a bit set over the positions of one order: bit ``i`` says whether the ``i``-th cluster
in that order has the value. A request's selection is the AND over its filter keys of the
OR of the allowed values (plus the empty value, which passes every filter, spec §3.4),
ANDed with its required tags and its controllers; its page is found by counting bits.

Built lazily, per order and per (key, value) asked for, and kept while the data are the
same (``ClusterTable.of``: the table of the same data versions is reused).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import msgspec
from ccmgr import jsonfast
from ccmgr.cmon.model import ControllerData, derived, versions
from ccmgr.versionedmemo import VersionedMemo
from ccmgr.views.common import CONTROLLER_KEYS, controller_passes
from ccmgr.views.listrequest import Match, sort_key

Entry = tuple[ControllerData, dict]
MAX_SETS = 1024  # bit sets kept per order (distinct filter values seen); then computed
MAX_ITEM_BYTES = 8 << 20  # encoded reply items kept per data version, in all
# Filter keys read from each cluster (as cmon-proxy compares them: strings); the cluster
# views filter through these too (views.clusters).
CLUSTER_FIELDS: dict[str, Callable[[dict], str]] = {
    "cluster_id": lambda cl: str(cl["cluster_id"]),
    "state": lambda cl: cl["state"],
    "cluster_type": lambda cl: cl["cluster_type"],
}


def _bits(positions: list[int], size: int) -> int:
    """An int whose bits ``positions`` are set (one pass in C, not one shift per bit)."""
    field = bytearray((size + 7) // 8)
    for p in positions:
        field[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(field, "little")


Position = tuple[int, int]  # (index of the controller in the gather result, of its cluster)


class _Order:
    """The positions in one order, with the bit sets of the values asked for so far.

    Kept between requests, so it holds positions, not the records: a kept table must not
    keep a superseded estate alive after a refresh (that is the worker's memory peak)."""

    def __init__(self, positions: list[Position]) -> None:
        self.positions = positions
        self.size = len(positions)
        self._sets: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def bits(self, key: str, value: str, test: Callable[[Entry], bool],
             data: _Data) -> int:
        found = self._sets.get((key, value))
        if found is None:
            entry = data.entry
            found = _bits([i for i, p in enumerate(self.positions) if test(entry(p))],
                          self.size)
            if len(self._sets) < MAX_SETS:  # unbounded distinct values must not grow it
                with self._lock:
                    self._sets[(key, value)] = found
        return found

    def page(self, selected: int, start: int, count: int) -> list[Position]:
        """The positions of set bits number ``start`` .. ``start + count - 1``."""
        out: list[Position] = []
        if count <= 0 or start >= selected.bit_count():
            return out
        raw = selected.to_bytes((self.size + 63) // 64 * 8, "little")
        words = memoryview(raw).cast("Q")
        skip = start
        for index, word in enumerate(words):
            if not word:
                continue
            n = word.bit_count()
            if skip >= n:
                skip -= n
                continue
            base = index * 64
            while word:
                low = word & -word
                if skip:
                    skip -= 1
                else:
                    out.append(self.positions[base + low.bit_length() - 1])
                    if len(out) == count:
                        return out
                word ^= low
        return out


class _Data:
    """One request's gather result, read by position."""

    def __init__(self, controllers: Sequence[ControllerData]) -> None:
        self.controllers = controllers
        self.lists = derived(controllers, "cluster lists",
                             lambda: [c.clusters() for c in controllers])

    def entry(self, position: Position) -> Entry:
        c, k = position
        return self.controllers[c], self.lists[c][k]  # type: ignore[index]


class _Index:
    """What is kept per data version: the positions, the orders and their bit sets, and
    the reply items encoded so far (bytes, no records)."""

    def __init__(self, data: _Data) -> None:
        self.with_clusters = [c for c, found in enumerate(data.lists) if found is not None]
        self.positions: list[Position] = [(c, k) for c in self.with_clusters
                                          for k in range(len(data.lists[c]))]  # type: ignore[arg-type]
        self.orders: dict[tuple[Any, bool], _Order] = {}
        self.items: dict[tuple[Position, Hashable], msgspec.Raw] = {}
        self.item_bytes = 0
        self.lock = threading.Lock()


class ClusterTable:
    """The (controller, light cluster) entries of every controller with a cluster list:
    the kept index of one data version over this request's gather result."""

    _memo = VersionedMemo(8)

    def __init__(self, controllers: Sequence[ControllerData], index: _Index | None = None
                 ) -> None:
        self.data = _Data(controllers)
        self.index = index or _Index(self.data)
        with_clusters = self.index.with_clusters  # the same for every index of these data
        self.controllers = derived(controllers, "with clusters",
                                   lambda: [controllers[c] for c in with_clusters])

    @classmethod
    def of(cls, controllers: Sequence[ControllerData]) -> ClusterTable:
        """The table of these data, its index reused while every controller's data
        versions are the same (a dashboard asks many queries of one data version)."""
        kept = versions(controllers)
        if not all(kept):  # data without versions (built by hand) cannot be matched
            return cls(controllers)
        index = cls._memo.lookup("clusters", kept)
        table = cls(controllers, index)
        if index is None:
            cls._memo.store("clusters", kept, table.index)
        return table

    def order(self, name: str, desc: bool, key: Callable[[Entry], Any] | None) -> _Order:
        """The table sorted by ``key`` (None: as gathered), built on first use."""
        index = self.index
        held = index.orders.get((name, desc))
        if held is None:
            positions = list(index.positions)
            if key is not None:
                entry = self.data.entry
                positions.sort(key=lambda p: key(entry(p)), reverse=desc)
            held = _Order(positions)
            with index.lock:
                index.orders[(name, desc)] = held
        return held

    def select(self, match: Match, order: _Order) -> tuple[int, list[ControllerData]]:
        """The bit set of the clusters ``match`` passes, and the controllers it looked at
        (controller-level keys skip whole controllers)."""
        selected = (1 << order.size) - 1
        if CONTROLLER_KEYS.isdisjoint(match.first):  # the common case: no loop at all
            return self._fields(match, order, selected), self.controllers
        kept = {c for c in self.index.with_clusters
                if controller_passes(match, self.data.controllers[c])}
        looked = [self.data.controllers[c] for c in self.index.with_clusters if c in kept]
        if len(looked) != len(self.controllers):
            keep = {id(c) for c in looked}
            selected &= order.bits("@controllers", ",".join(sorted(c.xid for c in looked)),
                                   lambda e: id(e[0]) in keep, self.data)
        return self._fields(match, order, selected), looked

    def _fields(self, match: Match, order: _Order, selected: int) -> int:
        for key, read in CLUSTER_FIELDS.items():
            rule = match.first.get(key)
            if rule is None:
                continue
            allowed = 0
            for value in ("", rule[0], *sorted(rule[1])):
                allowed |= order.bits(key, value,
                                      lambda e, r=read, v=value: r(e[1]) == v, self.data)
            selected &= allowed
        for tag in sorted(match.tags or ()):
            selected &= order.bits("@tag", tag, lambda e, t=tag: t in (e[1].get("tags") or ()),
                                   self.data)
        return selected

    def encoded_page(self, order: _Order, selected: int, start: int, count: int,
                     variant: Hashable, build: Callable[[Entry], Any]) -> list[msgspec.Raw]:
        """The page's reply items, each made by ``build`` and encoded once per data version
        and ``variant`` (a dashboard asks for the same first pages under many filters): a
        page is then a join of kept bytes. At most ``MAX_ITEM_BYTES`` are kept per version."""
        index = self.index
        out = []
        for position in order.page(selected, start, count):
            found = index.items.get((position, variant))
            if found is None:
                found = jsonfast.encoded(build(self.data.entry(position)))
                size = len(found)
                if index.item_bytes + size <= MAX_ITEM_BYTES:
                    with index.lock:
                        index.items[(position, variant)] = found
                        index.item_bytes += size
            out.append(found)
        return out


def ordered(table: ClusterTable, order: str, keys: dict[str, Callable[[Entry], Any]],
            default: tuple[Callable[[Entry], Any], bool | None]) -> _Order:
    """``listrequest.sort_key``'s rule as a table order."""
    name, key, desc = sort_key(order, keys, default)
    return table.order(name or "@default", desc, key)
