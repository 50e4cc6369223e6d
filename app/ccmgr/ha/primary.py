"""Which peer is the primary, as a secondary sees it, and promotion of this node."""

from __future__ import annotations

import contextlib
import json

from ccmgr.config import Config
from ccmgr.config.model import Peer
from ccmgr.ha.state import HAState
from ccmgr.ha.transport import SshTransport, TransportError
from ccmgr.runtime import Services


def known_primary(config: Config, state: HAState) -> Peer | None:
    """The peer whose bundle this node last accepted (the primary it follows)."""
    sender = state.read().get("received", {}).get("from")
    return next((p for p in config.peers if p.name == sender), None)


def probe_primary(config: Config, transport: SshTransport) -> Peer | None:
    """Ask every peer; the one that says it is the primary with the highest epoch."""
    best = None
    for peer in config.peers:
        try:
            reply = transport.call(peer, "status", b"", timeout=5)
            answer = json.loads(reply.stdout)
        except (TransportError, ValueError):
            continue
        if answer.get("role") == "primary" and (best is None or answer["epoch"] > best[0]):
            best = (answer["epoch"], peer)
    return best[1] if best else None


def take_over(services: Services, transport: SshTransport) -> int:
    """Make this node the primary with an epoch above every reachable peer's; returns it.
    The caller pushes the new config to the secondaries (``Replicator.push_all``)."""
    epochs = [services.store.current().epoch]
    for peer in services.store.current().peers:
        with contextlib.suppress(TransportError, ValueError):
            epochs.append(int(json.loads(transport.call(peer, "status", b"", 5).stdout)["epoch"]))
    new_epoch = max(epochs) + 1

    def mutate(doc: dict) -> None:
        doc["role"], doc["epoch"] = "primary", new_epoch
    services.store.update(mutate, bump=False)
    return new_epoch
