"""Password hashes: passlib PBKDF2-SHA256 for new ones, cmon-proxy's legacy format verified.

cmon-proxy stores ``<salt hex>:<iterations>:<key hex>`` (8-byte salt, 2560..12799 rounds,
PBKDF2-HMAC-SHA256, 32-byte key; spec §1.8). Those verify unchanged and are replaced
with a passlib hash on the next successful login.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from passlib.hash import pbkdf2_sha256
from passlib.utils.binary import ab64_decode

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
    return bool(stored) and not stored.startswith("$")


PBKDF2 = Callable[[str, bytes, bytes, int, int], bytes]
_PAD_SALT = secrets.token_bytes(16)


def verify_password(password: str, stored: str | None, *,
                    pbkdf2: PBKDF2 = hashlib.pbkdf2_hmac) -> bool:
    """True if ``password`` matches ``stored``; malformed hashes never match.

    A failure always costs ROUNDS rounds of PBKDF2, whatever the stored hash is: a
    cmon-proxy hash (2560..12799 rounds) failed in 2.9 ms against ~30 ms for a passlib one,
    which told an attacker which accounts were imported; an empty or malformed hash
    failed at once. The rounds a hash does not spend itself are spent on a dummy key."""
    ok, spent = _check(password, stored or "", pbkdf2)
    if not ok and spent < ROUNDS:
        pbkdf2("sha256", password.encode(), _PAD_SALT, ROUNDS - spent, 32)
    return ok


def _check(password: str, stored: str, pbkdf2: PBKDF2) -> tuple[bool, int]:
    """(match, PBKDF2 rounds spent)."""
    if stored.startswith("$pbkdf2-sha256$"):
        parts = stored.split("$")
        try:
            rounds, salt, expected = int(parts[2]), ab64_decode(parts[3]), ab64_decode(parts[4])
        except (ValueError, IndexError, TypeError):
            return False, 0
    elif is_legacy(stored):
        parts = stored.split(":")
        if len(parts) != 3:
            return False, 0
        try:
            salt, rounds, expected = bytes.fromhex(parts[0]), int(parts[1]), bytes.fromhex(
                parts[2])
        except ValueError:
            return False, 0
    else:
        return False, 0
    if not 1 <= rounds <= 10_000_000 or not expected:
        return False, 0
    actual = pbkdf2("sha256", password.encode(), salt, rounds, len(expected))
    return hmac.compare_digest(actual, expected), rounds


def needs_upgrade(stored: str) -> bool:
    return is_legacy(stored) or pbkdf2_sha256.using(rounds=ROUNDS).needs_update(stored)


def random_password() -> str:
    return secrets.token_urlsafe(12)
