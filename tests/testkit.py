"""Small helpers shared by several test suites (and the benches)."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def role_module(role: str, name: str) -> ModuleType:
    """An Ansible role's own module (roles/<role>/library/<name>.py), imported by path."""
    spec = importlib.util.spec_from_file_location(name, REPO / "roles" / role / "library"
                                                  / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def poll(predicate: Callable[[], T], timeout: float, interval: float = 0.2) -> T:
    """Call ``predicate`` until it returns something truthy or ``timeout`` seconds are
    up (it is always called once more at the end); returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def as_sent(body: dict) -> dict:
    """A view's reply as the client reads it: encoded as the API encodes it (some views
    hand over items encoded already, views.clustertable) and decoded again."""
    import json

    from ccmgr import jsonfast
    return json.loads(jsonfast.dumps(body))
