import stat

import pytest
from ccmgr.sessions import Revocations, SecretFile, SessionManager


class Clock:
    def __init__(self, now=1_700_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def manager(basedir, clock):
    secret = SecretFile(str(basedir / "session.key"))
    return SessionManager(secret, Revocations(str(basedir / "rev.json"), clock), clock)


def test_secret_is_created_private(manager, basedir):
    manager.secret.get()
    assert stat.S_IMODE((basedir / "session.key").stat().st_mode) == 0o600


def test_token_round_trips(manager):
    session = manager.issue("alice")
    decoded = manager.decode(manager.encode(session), ttl_s=60)
    assert decoded == session


def test_tampered_or_foreign_tokens_are_refused(manager, basedir):
    token = manager.encode(manager.issue("alice"))
    version, _body, mac = token.split(".")
    forged = manager.encode(manager.issue("admin")).split(".")[1]
    assert manager.decode(f"{version}.{forged}.{mac}", 60) is None
    assert manager.decode(token[:-2] + "AA", 60) is None
    assert manager.decode("garbage", 60) is None
    other = SessionManager(SecretFile(str(basedir / "other.key")), manager.revocations)
    assert other.decode(token, 60) is None


def test_session_expires_after_idle_ttl_and_refresh_extends_it(manager, clock):
    session = manager.issue("alice")
    clock.now += 50
    assert manager.decode(manager.encode(session), 60) is not None
    assert manager.needs_refresh(session, 60)
    refreshed = manager.touched(session)
    clock.now += 50
    assert manager.decode(manager.encode(session), 60) is None
    assert manager.decode(manager.encode(refreshed), 60) is not None


def test_logout_revokes_one_session_only(manager):
    first, second = manager.issue("alice"), manager.issue("alice")
    manager.revoke(first, 60)
    assert manager.decode(manager.encode(first), 60) is None
    assert manager.decode(manager.encode(second), 60) is not None


def test_revoke_user_ends_every_earlier_session_but_not_a_later_one(manager, clock):
    old = manager.issue("alice")
    bob = manager.issue("bob")
    manager.revoke_user("alice")
    new = manager.issue("alice")  # same millisecond as the revocation
    assert manager.decode(manager.encode(old), 60) is None
    assert manager.decode(manager.encode(new), 60) is not None
    assert manager.decode(manager.encode(bob), 60) is not None


def test_revocations_are_shared_through_the_file(manager, basedir, clock):
    session = manager.issue("alice")
    other = SessionManager(manager.secret, Revocations(str(basedir / "rev.json"), clock), clock)
    manager.revoke(session, 60)
    assert other.decode(manager.encode(session), 60) is None


def test_expired_revocations_are_pruned(manager, clock):
    session = manager.issue("alice")
    manager.revoke(session, 60)
    clock.now += 120
    manager.revoke(manager.issue("bob"), 60)
    assert session.sid not in manager.revocations.snapshot()["sessions"]


def test_a_token_checked_before_still_expires_is_revoked_and_fits_only_its_secret(
        manager, basedir, clock):
    """Decoding keeps tokens whose signature was checked (sessions.MAX_VERIFIED): that
    must skip the HMAC only, never expiry, revocation or a changed secret."""
    session = manager.issue("alice")
    token = manager.encode(session)
    assert manager.decode(token, 60) == session
    clock.now += 61
    assert manager.decode(token, 60) is None           # expired since it was checked
    clock.now -= 61
    assert manager.decode(token, 60) == session
    manager.revoke(session, 60)
    assert manager.decode(token, 60) is None           # revoked since it was checked
    other = manager.issue("alice")
    other_token = manager.encode(other)
    assert manager.decode(other_token, 60) == other
    (basedir / "session.key").write_text("n" * 64)     # the key changed on disk
    assert manager.decode(other_token, 60) is None


def test_checked_tokens_kept_are_bounded(manager, monkeypatch):
    from ccmgr import sessions
    monkeypatch.setattr(sessions, "MAX_VERIFIED", 5)
    tokens = [manager.encode(manager.issue(f"user{n}")) for n in range(12)]
    for token in tokens:
        assert manager.decode(token, 60) is not None
    assert len(manager._verified) <= 5
    assert all(manager.decode(token, 60) is not None for token in tokens)
