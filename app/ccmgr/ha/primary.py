"""Which peer is the primary, as a secondary sees it."""

from __future__ import annotations

from ccmgr.config import Config
from ccmgr.ha.state import HAState


def known_primary(config: Config, state: HAState) -> dict | None:
    """The peer whose bundle this node last accepted (the primary it follows)."""
    sender = state.read().get("received", {}).get("from")
    return next((p for p in config.peers if p["name"] == sender), None)
