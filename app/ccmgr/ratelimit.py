"""Failed-login limiter: a sliding window of failures per key (cmon-proxy HEAD's rule).

One ccmgr node runs a single gunicorn worker process by default, so an in-process
limiter is exact for the node.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_TRACKED_KEYS = 100_000  # an address flood cannot grow memory without bound


class FailureLimiter:
    def __init__(self, max_failures: int = 10, window_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._mutex = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float] | None:
        stamps = self._failures.get(key)
        if stamps is None:
            return None
        while stamps and stamps[0] <= now - self.window_s:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
            return None
        return stamps

    def allowed(self, key: str) -> bool:
        with self._mutex:
            stamps = self._prune(key, self.clock())
            return stamps is None or len(stamps) < self.max_failures

    def record_failure(self, key: str) -> None:
        with self._mutex:
            now = self.clock()
            stamps = self._prune(key, now)
            if stamps is None:
                if len(self._failures) >= MAX_TRACKED_KEYS:
                    self._failures.pop(next(iter(self._failures)))
                stamps = self._failures[key] = deque()
            stamps.append(now)

    def clear(self, key: str) -> None:
        with self._mutex:
            self._failures.pop(key, None)
