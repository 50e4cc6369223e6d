"""ha-state.json: what this node knows about replication (peers' sync, last bundle)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from ccmgr.fsutil import atomic_write, locked

STATE_NAME = "ha-state.json"


class HAState:
    def __init__(self, basedir: str) -> None:
        self.path = os.path.join(basedir, STATE_NAME)

    def read(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (FileNotFoundError, ValueError):
            return {"peers": {}, "received": {}}
        data.setdefault("peers", {})
        data.setdefault("received", {})
        return data

    def update(self, change: Callable[[dict], None]) -> dict:
        with locked(self.path + ".lock"):
            data = self.read()
            change(data)
            atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True).encode(), 0o600)
        return data
