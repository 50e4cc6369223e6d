"""The local reload token ccmgradm sends to the daemon (kept apart from Falcon code, so the
CLI starts without importing the web framework)."""

RELOAD_TOKEN_HEADER = "X-Ccmgr-Reload-Token"  # noqa: S105 - a header name
RELOAD_PURPOSE = "ccmgr reload v1"
