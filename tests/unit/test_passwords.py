import hashlib

from ccmgr.passwords import hash_password, legacy_hash, needs_upgrade, verify_password


def test_cmon_proxy_hash_from_spec_parameters_verifies():
    # spec §1.8: 8-byte salt, PBKDF2-HMAC-SHA256, 32-byte key, salt:iterations:key in hex
    salt = bytes.fromhex("a1b2c3d4e5f60718")
    key = hashlib.pbkdf2_hmac("sha256", b"7052369b1abd", salt, 9999, 32).hex()
    stored = f"a1b2c3d4e5f60718:9999:{key}"
    assert verify_password("7052369b1abd", stored)
    assert not verify_password("7052369b1abE", stored)
    assert needs_upgrade(stored)


def test_legacy_hash_shape_matches_cmon_proxy():
    salt, iterations, key = legacy_hash("pw").split(":")
    assert len(salt) == 16 and len(key) == 64
    assert 2560 <= int(iterations) <= 12799


def test_new_hashes_are_passlib_pbkdf2_sha256_and_salted():
    first, second = hash_password("pw"), hash_password("pw")
    assert first.startswith("$pbkdf2-sha256$") and first != second
    assert verify_password("pw", first) and not verify_password("px", first)
    assert not needs_upgrade(first)


def test_malformed_hashes_never_match():
    for stored in ("", None, "abc", "a:b", "zz:10:zz", "00:0:00", "00:10:", "$pbkdf2-sha256$x"):
        assert not verify_password("", stored)
        assert not verify_password("pw", stored)
