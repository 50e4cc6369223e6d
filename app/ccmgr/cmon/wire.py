"""Typed decoding of the one big controller reply, ``getAllClusterInfo`` (msgspec).

A cluster list is ~220 KiB of JSON per controller with 40 clusters x 5 hosts, and the
cache keeps only a handful of fields per cluster plus the record itself for the reply
items. Decoding the whole reply into dicts and lists, then re-encoding each cluster for
the cache, cost ~4.5 ms of one core per controller and ~7 KiB of worker memory per host
(issue 17, docs/benchmarks.md). msgspec decodes straight into small typed structs with
only the fields asked for, skipping the rest in C, in one pass that also reads the
envelope; each cluster's bytes are found later, as ``Raw`` slices of the reply (no copy),
when a reply first needs one: the reply body is the cache's storage.

Only the common case is taken here. A reply whose fields have types this fast path does
not accept (``"cluster_id": " 7"``, a null host, NaN ...) decodes to None and is read by the
tolerant path (``records.light_cluster``), so the result is the same either way.
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec


class Envelope(msgspec.Struct):
    """What every reply is judged by (cmon-proxy spec §5.3)."""

    request_status: Any = msgspec.UNSET  # UNSET: absent; None: sent as null
    error_string: Any = msgspec.UNSET
    controller_id: Any = msgspec.UNSET


def envelope_fields(head: Envelope) -> dict:
    """The envelope of a typed reply as the dict a decoded reply would have (absent
    fields left out)."""
    return {key: value for key in ("request_status", "error_string", "controller_id")
            if (value := getattr(head, key)) is not msgspec.UNSET}


class _HostState(msgspec.Struct):
    nodetype: str | None = None
    hoststatus: str | None = None


class _Cluster(msgspec.Struct):
    cluster_id: int | None = None
    state: str | None = None
    cluster_type: str | None = None
    tags: list[str] | None = None
    hosts: list[_HostState] | None = None


class ClustersReply(Envelope):
    """``getAllClusterInfo`` with what the cache keeps of each cluster."""

    request_processed: Any = None
    clusters: list[_Cluster] | None = None
    license: msgspec.Raw = msgspec.Raw(b"null")  # (Raw takes no union with None)
    license_check: msgspec.Raw = msgspec.Raw(b"null")


class _Slices(msgspec.Struct):
    clusters: list[msgspec.Raw] | None = None


def decode_clusters(body: bytes) -> ClustersReply | None:
    """The reply in one typed pass; None when the fast path does not apply."""
    try:
        return _CLUSTERS.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


_CLUSTERS = msgspec.json.Decoder(ClustersReply, strict=False)  # CmonInt: "7" is 7
_SLICES = msgspec.json.Decoder(_Slices)


class ReplySlices:
    """The byte slices of one reply's clusters, found on first use (one more pass over the
    reply, in C) and kept: replies return a page of clusters, the cold path needs none."""

    __slots__ = ("_raws", "body")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self._raws: list[msgspec.Raw] | None = None

    def raw(self, index: int) -> msgspec.Raw:
        raws = self._raws
        if raws is None:  # threads that race here find equal slices; the last one stays
            raws = self._raws = _SLICES.decode(self.body).clusters or []
        return raws[index]


class ClusterBytes:
    """Where one cached cluster's record is: cluster ``index`` of a reply."""

    __slots__ = ("index", "slices")

    def __init__(self, slices: ReplySlices, index: int) -> None:
        self.slices = slices
        self.index = index

    def raw(self) -> msgspec.Raw:
        return self.slices.raw(self.index)


class _ClusterHead(msgspec.Struct):
    """The top-level fields of a cluster record that a reply item without hosts shows
    (``records.cluster(with_hosts=False)``), as sent: its hosts are skipped, not decoded."""

    class_name: Any = msgspec.UNSET
    cluster_id: Any = msgspec.UNSET
    cluster_name: Any = msgspec.UNSET
    cluster_type: Any = msgspec.UNSET
    state: Any = msgspec.UNSET
    maintenance_mode_active: Any = msgspec.UNSET
    tags: Any = msgspec.UNSET
    cluster_auto_recovery: Any = msgspec.UNSET
    node_auto_recovery: Any = msgspec.UNSET
    vendor: Any = msgspec.UNSET
    version: Any = msgspec.UNSET


_HEAD = msgspec.json.Decoder(_ClusterHead)
_HEAD_FIELDS = _ClusterHead.__struct_fields__


def cluster_head(record: msgspec.Raw | bytes) -> dict | None:
    """Those fields of one cluster record as a dict holding what a full decode would hold
    for them (absent keys left out); None if the record needs the full decoder."""
    try:
        head = _HEAD.decode(memoryview(record))
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return {key: value for key in _HEAD_FIELDS
            if (value := getattr(head, key)) is not msgspec.UNSET}


def _word(value: str | None) -> str:
    # States, types and tags repeat across thousands of clusters: one string object each.
    return sys.intern(value) if value else ""


def light_clusters(reply: ClustersReply, body: bytes) -> list[dict]:
    """The clusters of a typed reply in the cached (light) form of
    ``records.light_cluster``, each record left where it is in ``body``."""
    slices = ReplySlices(body)
    light = []
    for index, cluster in enumerate(reply.clusters or ()):
        nodes = 0
        node_states: dict[str, int] = {}
        for host in cluster.hosts or ():
            nodes += 1
            if host.nodetype != "controller":
                status = _word(host.hoststatus)
                node_states[status] = node_states.get(status, 0) + 1
        light.append({"cluster_id": cluster.cluster_id or 0, "state": _word(cluster.state),
                      "cluster_type": _word(cluster.cluster_type),
                      "tags": [_word(t) for t in cluster.tags or ()],
                      "nodes": nodes, "node_states": node_states,
                      "_raw": ClusterBytes(slices, index), "_hosts": None})
    return light
