"""Small helpers shared by several test suites (and the benches)."""

from __future__ import annotations

import contextlib
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


def children(pid: int) -> list[int]:
    """The child processes of ``pid``, from every one of its threads:
    /proc/PID/task/TID/children lists only what TID forked, and a worker's fetch threads
    start a fetch process again when one died."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError):  # the thread ended meanwhile
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def fetch_processes_of(worker: int) -> list[int]:
    """A worker's fetch processes (CCMGR_FETCH_PROCESSES, cmon.offload)."""
    return [c for c in children(worker)
            if b"ccmgr.cmon.offload" in Path(f"/proc/{c}/cmdline").read_bytes()]


def running(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
