"""Password hashes: passlib PBKDF2-SHA256 for new ones, cmon-proxy's legacy format verified.

cmon-proxy stores ``<salt hex>:<iterations>:<key hex>`` (8-byte salt, 2560..12799 rounds,
PBKDF2-HMAC-SHA256, 32-byte key; spec §1.8). Those verify unchanged and are replaced
with a passlib hash on the next successful login.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from passlib.hash import pbkdf2_sha256

ROUNDS = 120_000  # about 30 ms per login on one core here: slows guessing, not people


def hash_password(password: str) -> str:
    return pbkdf2_sha256.using(rounds=ROUNDS).hash(password)


def legacy_hash(password: str, *, salt: bytes | None = None, iterations: int | None = None) -> str:
    """A hash in cmon-proxy's format (used by tests and for interoperability checks)."""
    salt = salt if salt is not None else secrets.token_bytes(8)
    iterations = iterations if iterations is not None else 2560 + secrets.randbelow(10240)
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations, 32)
    return f"{salt.hex()}:{iterations}:{key.hex()}"


def is_legacy(stored: str) -> bool:
    return not stored.startswith("$")


def verify_password(password: str, stored: str | None) -> bool:
    """True if ``password`` matches ``stored``; malformed hashes never match."""
    if not stored:
        return False
    if not is_legacy(stored):
        try:
            return pbkdf2_sha256.verify(password, stored)
        except (ValueError, TypeError):
            return False
    parts = stored.split(":")
    if len(parts) != 3:
        return False
    salt_hex, iterations_text, key_hex = parts
    try:
        salt, expected, iterations = bytes.fromhex(salt_hex), bytes.fromhex(key_hex), int(
            iterations_text)
    except ValueError:
        return False
    if not 1 <= iterations <= 10_000_000 or not expected:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations, len(expected))
    return hmac.compare_digest(actual, expected)


def needs_upgrade(stored: str) -> bool:
    return is_legacy(stored) or pbkdf2_sha256.using(rounds=ROUNDS).needs_update(stored)


def random_password() -> str:
    return secrets.token_urlsafe(12)
