"""``<basedir>/metrics.token``: the node-local bearer token Prometheus scrapes with.

Made at first start (0600, like the session secret), never part of a replication bundle
(bundles carry config keys only), so every node has its own.
"""

from __future__ import annotations

import hmac
import os
import secrets

from ccmgr.fsutil import atomic_write

TOKEN_NAME = "metrics.token"  # noqa: S105 - a file name


class MetricsToken:
    def __init__(self, basedir: str) -> None:
        self.path = os.path.join(basedir, TOKEN_NAME)
        self._value: str | None = None

    def ensure(self) -> None:
        """Create the token file unless it exists (never replaces a token in use)."""
        if not os.path.exists(self.path):
            atomic_write(self.path, (secrets.token_urlsafe(32) + "\n").encode(), 0o600)

    def value(self) -> str:
        if self._value is None:
            self.ensure()
            with open(self.path, encoding="utf-8") as handle:
                self._value = handle.read().strip()
        return self._value

    def matches(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries this token (constant-time compare)."""
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return False
        try:
            expected = self.value()
        except OSError:
            return False
        return bool(expected) and hmac.compare_digest(given.strip().encode(), expected.encode())
