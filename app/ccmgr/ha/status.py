"""This node's replication position and its peers' sync, for /health, the API and ccmgradm."""

from __future__ import annotations

import time

from ccmgr.config import Config
from ccmgr.ha.state import HAState


def peer_in_sync(known: dict, config: Config) -> bool:
    """A peer acknowledged exactly this node's (epoch, generation, sha256) at its last push."""
    return (known.get("generation") == config.generation and known.get("epoch") == config.epoch
            and known.get("sha256") == config.sha256 and not known.get("behind", True))


def sync_report(config: Config, state: HAState, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    data = state.read()
    report: dict = {}
    if config.role != "secondary":
        peers = []
        for peer in config.peers:
            known = data["peers"].get(peer.name, {})
            generation = known.get("generation")
            peers.append({
                "name": peer.name,
                "address": peer.address,
                "in_sync": peer_in_sync(known, config),
                "generation": generation,
                "lag_generations": None if generation is None else config.generation - generation,
                "last_sync_age_s": round(now - known["last_ok"], 1) if known.get("last_ok")
                else None,
                "error": "" if not known.get("behind") else known.get("error", ""),
            })
        report["peers"] = peers
    received = data.get("received") or {}
    if received:
        report["following"] = received.get("from")
        report["last_received_age_s"] = round(now - received.get("at", now), 1)
    return report
