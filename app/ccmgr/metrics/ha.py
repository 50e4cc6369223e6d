"""HA metrics: this node's role and position, and what it knows of its peers."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ccmgr.config import ConfigStore
from ccmgr.ha.state import HAState
from ccmgr.ha.status import peer_in_sync

ROLES = ("primary", "secondary")


class HACollector(Collector):
    def __init__(self, store: ConfigStore, state: HAState, replicator: object = None) -> None:
        self.store = store
        self.state = state
        self.replicator = replicator  # ha.replicator.Replicator of this process, if any

    def describe(self) -> list:
        return []

    def collect(self) -> Iterator:
        config = self.store.current()
        now = time.time()
        role = GaugeMetricFamily("ccmgr_ha_role", "1 for this node's role", labels=("role",))
        for name in ROLES:
            role.add_metric([name], 1.0 if config.role == name else 0.0)
        epoch = GaugeMetricFamily("ccmgr_ha_epoch", "Epoch of this node's configuration")
        epoch.add_metric([], config.epoch)
        generation = GaugeMetricFamily("ccmgr_ha_generation",
                                       "Generation of this node's configuration")
        generation.add_metric([], config.generation)
        in_sync = GaugeMetricFamily("ccmgr_ha_peer_in_sync",
                                    "1 when the peer holds this primary's configuration",
                                    labels=("peer",))
        lag = GaugeMetricFamily("ccmgr_ha_replication_lag_seconds",
                                "0 when the peer is in sync, else seconds since it last "
                                "took a push", labels=("peer",))
        received = GaugeMetricFamily("ccmgr_ha_last_received_age_seconds",
                                     "Seconds since this secondary last heard from its "
                                     "primary (pushes and heartbeats)")
        data = self.state.read()
        if config.role != "secondary":
            for peer in config.peers:
                known = data["peers"].get(peer.name, {})
                synced = peer_in_sync(known, config)
                in_sync.add_metric([peer.name], 1.0 if synced else 0.0)
                last_ok = known.get("last_ok")
                lag.add_metric([peer.name], 0.0 if synced else
                               (now - last_ok if last_ok else float("inf")))
        else:
            at = (data.get("received") or {}).get("at")
            if at:
                received.add_metric([], max(0.0, now - at))
        pushes = CounterMetricFamily("ccmgr_ha_pushes", "Pushes to a peer by this process",
                                     labels=("peer",))
        failures = CounterMetricFamily("ccmgr_ha_push_failures",
                                       "Pushes a peer did not take", labels=("peer",))
        if self.replicator is not None:
            for peer, count in sorted(getattr(self.replicator, "pushes", {}).items()):
                pushes.add_metric([peer], count)
                failures.add_metric([peer], self.replicator.push_failures.get(peer, 0))
        yield from (role, epoch, generation, in_sync, lag, received, pushes, failures)
