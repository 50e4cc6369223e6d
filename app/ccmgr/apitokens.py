"""API tokens for automation (issue 13): pure operations on the config document.

A token is ``ccmgr_`` and 43 random url-safe characters; only its SHA-256 is stored
(``tokens:`` in the shared config, so it is replicated like users). SHA-256 without salt is
enough here: the secret has 256 random bits, so nothing can be guessed from the hash, and
checking it must be cheap because every request carrying a token pays for it.
``ccmgr.accounts`` runs these in the store's locked update.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from ccmgr.users import ROLES, UserError, check_role

PREFIX = "ccmgr_"
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DAY_S = 86400
MAX_DAYS = 3650


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def _find(doc: dict, name: str) -> dict | None:
    return next((t for t in doc.get("tokens") or () if t.get("name") == name), None)


def create(doc: dict, name: str, role: str, days: int | None, now: float | None = None
           ) -> tuple[str, dict]:
    """Add a token; returns (the secret, shown once; the stored record)."""
    if not _NAME.match(name or ""):
        raise UserError("invalid token name (1-64 letters, digits and . _ -)")
    check_role(role)
    if _find(doc, name) is not None:
        raise UserError(f"a token named '{name}' already exists (revoke it first)")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise UserError(f"--expires must be between 1 and {MAX_DAYS} days")
    created = int(now if now is not None else time.time())
    secret = f"{PREFIX}{secrets.token_urlsafe(32)}"
    record = {"name": name, "role": role, "hash": digest(secret), "created": created,
              "expires": created + days * DAY_S if days else 0}
    doc.setdefault("tokens", []).append(record)
    return secret, record


def revoke(doc: dict, name: str) -> dict:
    record = _find(doc, name)
    if record is None:
        raise UserError(f"no token named '{name}'")
    doc["tokens"].remove(record)
    if not doc["tokens"]:
        doc.pop("tokens")
    return record


def public(record: dict) -> dict:
    """A token as listings show it: never its hash."""
    return {k: record.get(k) for k in ("name", "role", "created", "expires")}


def lookup(tokens: list[dict], secret: str, now: float | None = None) -> dict | None:
    """The live token whose hash matches ``secret`` (every record compared: no early exit)."""
    presented = digest(secret)
    found = None
    for record in tokens:
        if hmac.compare_digest(str(record.get("hash", "")), presented):
            found = record
    if found is None or found.get("role") not in ROLES:
        return None
    expires = found.get("expires") or 0
    if expires and (now if now is not None else time.time()) >= expires:
        return None
    return found
