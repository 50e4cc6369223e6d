"""A failed login costs the same PBKDF2 work whatever the stored hash is, so timing
does not tell imported cmon-proxy accounts, or broken ones, from the others (issue 18,
defect 7). The times themselves are in bench/login_timing.py."""

from __future__ import annotations

import hashlib

import pytest
from ccmgr.passwords import ROUNDS, hash_password, legacy_hash, verify_password
from passlib.hash import pbkdf2_sha256


class CountingPbkdf2:
    """The real hashlib function, counting the rounds it is asked for."""

    def __init__(self) -> None:
        self.rounds = 0

    def __call__(self, name: str, password: bytes, salt: bytes, rounds: int,
                 length: int) -> bytes:
        self.rounds += rounds
        return hashlib.pbkdf2_hmac(name, password, salt, rounds, length)


STORED = {
    "passlib": hash_password("right"),
    "passlib with fewer rounds": pbkdf2_sha256.using(rounds=29000).hash("right"),
    "cmon-proxy, fewest rounds": legacy_hash("right", iterations=2560),
    "cmon-proxy, most rounds": legacy_hash("right", iterations=12799),
    "malformed": "abc:12:zz",
    "empty": "",
}


@pytest.mark.parametrize("kind", STORED)
def test_a_wrong_password_costs_the_same_rounds_for_every_hash_format(kind):
    counter = CountingPbkdf2()
    assert not verify_password("wrong", STORED[kind], pbkdf2=counter)
    assert counter.rounds == ROUNDS


@pytest.mark.parametrize("kind", [k for k in STORED if k not in ("malformed", "empty")])
def test_the_right_password_still_verifies(kind):
    assert verify_password("right", STORED[kind])
