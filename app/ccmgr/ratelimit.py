"""Failed-login limiter: a sliding window of failures per client address and per target
user name (cmon-proxy HEAD's rule is per address only).

Every attempt is counted as a failure *before* its password is checked, in one step with
the check of the limit, so concurrent guesses cannot all pass the check before any of them
is counted (40 at once got 23-40 checked). A success then takes back that user's failures
only: another account's login from the same address does not reset the guesses made
against this one. With a ``path``, the counts live in that file under an exclusive lock,
so they are shared by every worker process of the node and survive restarts.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator

MAX_TRACKED_KEYS = 5_000  # an address or name flood cannot grow memory or the file forever


class LoginLimiter:
    def __init__(self, path: str | None = None, max_failures: int = 10,
                 window_s: float = 300.0, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._mutex = threading.Lock()
        # key -> [[time, user], ...]; keys are "a:<address>" and "u:<user>"
        self._state: dict[str, list] = {}

    def begin(self, address: str, username: str) -> bool:
        """False when the address or the user is over the limit; otherwise count this
        attempt as a failure (``succeeded`` takes it back) and return True."""
        with self._locked() as state:
            now = self.clock()
            if len(state) > 100:
                for key in list(state):
                    self._live(state, key, now)
            keys = (f"a:{address}", f"u:{username}")
            if any(len(self._live(state, key, now)) >= self.max_failures for key in keys):
                return False
            for key in keys:
                if key not in state and len(state) >= MAX_TRACKED_KEYS:
                    state.pop(next(iter(state)))
                state.setdefault(key, []).append([now, username])
            return True

    def succeeded(self, address: str, username: str) -> None:
        """Forget ``username``'s failures, from this address and in total."""
        with self._locked() as state:
            state.pop(f"u:{username}", None)
            key = f"a:{address}"
            kept = [s for s in state.get(key, []) if s[1] != username]
            if kept:
                state[key] = kept
            else:
                state.pop(key, None)

    def _live(self, state: dict, key: str, now: float) -> list:
        stamps = [s for s in state.get(key, []) if s[0] > now - self.window_s]
        if stamps:
            state[key] = stamps
        else:
            state.pop(key, None)
        return stamps

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict]:
        with self._mutex:
            if self.path is None:
                yield self._state
                return
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            with os.fdopen(fd, "r+") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    state = json.loads(handle.read() or "{}")
                except ValueError:  # cut by a crash: the counts restart, nothing else
                    state = {}
                if not isinstance(state, dict):
                    state = {}
                yield state
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(state, separators=(",", ":")))
