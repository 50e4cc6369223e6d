"""Sessions belong to the account, not its name: a user dropped and added again does not
get the old user's sessions back (issue 18, defect 4)."""

from __future__ import annotations

import yaml
from ccmgr import users
from ccmgr.bootstrap import bootstrap
from ccmgr.ha.bundle import apply_bundle, make_bundle
from ccmgr.runtime import Services


def check(harness, sid: str) -> int:
    return harness.post("/proxy/auth/check", sid=sid).status_code


def add(harness, name: str, password: str) -> None:
    harness.services.store.update(lambda doc: users.add_user(doc, name, password))


def drop(harness, name: str) -> None:
    harness.services.store.update(lambda doc: users.drop_user(doc, name))


def test_dropped_users_session_does_not_come_back_with_a_new_user_of_that_name(harness):
    add(harness, "bob", "Old-bob-pw1")
    old = harness.login("bob", "Old-bob-pw1")
    assert check(harness, old) == 200
    drop(harness, "bob")
    assert check(harness, old) == 401
    add(harness, "bob", "New-bob-pw1")
    assert check(harness, old) == 401
    new = harness.login("bob", "New-bob-pw1")
    assert check(harness, new) == 200


def test_account_id_is_kept_by_profile_and_password_changes_and_never_shown(harness):
    add(harness, "bob", "Bob-pw-1")
    sid = harness.login("bob", "Bob-pw-1")
    update = harness.post("/proxy/auth/update", {"user": {"username": "bob", "email": "b@c.d"}},
                          sid=sid)
    assert update.status_code == 200 and "account_id" not in update.json["user"]
    assert check(harness, sid) == 200
    harness.services.store.update(lambda doc: users.set_password(doc, "bob", "Bob-pw-2"))
    assert harness.post("/proxy/auth/check", sid=harness.login("bob", "Bob-pw-2")).json[
        "user"] == {"username": "bob", "email": "b@c.d", "role": "admin"}


def test_legacy_users_without_account_id_keep_working(harness):
    # cmon-proxy's files carry no account_id: such a user's sessions carry none either.
    def strip(doc: dict) -> None:
        users.find(doc, "admin").pop("account_id", None)
    harness.services.store.update(strip)
    sid = harness.login()
    assert check(harness, sid) == 200


def test_account_id_travels_in_the_replication_bundle(basedir, tmp_path):
    primary = Services.from_basedir(str(basedir))
    bootstrap(primary)
    primary.store.update(lambda doc: users.add_user(doc, "bob", "Bob-pw-1"))
    account = primary.store.current().user("bob")["account_id"]
    assert account
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    (second_dir / "ccmgr.yaml").write_text(yaml.safe_dump({"node_name": "ccm2"}))
    (second_dir / "ccmgr.yaml").chmod(0o600)
    primary.store.update(lambda doc: doc.__setitem__("node_name", "ccm1"))
    secondary = Services.from_basedir(str(second_dir))
    assert apply_bundle(secondary, make_bundle(primary))["status"] == "applied"
    assert secondary.store.current().user("bob")["account_id"] == account
