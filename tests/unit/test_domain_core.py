"""The one write path for users and controllers, the typed config, the field checker, the
client registry and the versioned memo (issue 16)."""

from __future__ import annotations

import io
import json

import pytest
from ccmgr import accounts, registry
from ccmgr.bootstrap import ensure_admin
from ccmgr.cli import main
from ccmgr.collectors.clients import ClientRegistry
from ccmgr.config.schema import parse_config
from ccmgr.errors import CcmgrError, ConfigError, InvalidRequest
from ccmgr.fields import check_fields
from ccmgr.ha.bundle import BundleRejected, _check_shape
from ccmgr.http import HttpPool
from ccmgr.instances import DuplicateURL, UnknownController, replace
from ccmgr.runtime import Services
from ccmgr.versionedmemo import VersionedMemo


@pytest.fixture
def services(basedir):
    services = Services.from_basedir(str(basedir))
    services.secret.ensure()
    return services


def _run(monkeypatch, basedir, *argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--basedir", str(basedir), *argv])


def test_ccmgradm_setpassword_of_admin_removes_the_first_start_file_and_ends_sessions(
        services, basedir, monkeypatch):
    assert ensure_admin(services)
    before = services.sessions.issue("admin")
    assert (basedir / "initial-admin-password").exists()
    assert _run(monkeypatch, basedir, "setpassword", "admin", "--password-stdin",
                stdin="n3w-secret\n") == 0
    assert not (basedir / "initial-admin-password").exists()
    assert services.sessions.revocations.is_revoked(before)


def test_a_seeded_password_change_ends_the_users_sessions_and_an_unchanged_seed_does_not(
        services, basedir, monkeypatch, capsys):
    seed = json.dumps({"users": [{"username": "ann", "password": "one-pass"}]})
    assert _run(monkeypatch, basedir, "seed", stdin=seed) == 0
    kept = services.sessions.issue("ann")
    assert _run(monkeypatch, basedir, "seed", stdin=seed) == 0  # nothing changes
    assert not services.sessions.revocations.is_revoked(kept)
    changed = json.dumps({"users": [{"username": "ann", "password": "two-pass"}]})
    assert _run(monkeypatch, basedir, "seed", stdin=changed) == 0
    assert services.sessions.revocations.is_revoked(kept)
    assert '"users_updated": ["ann"]' in capsys.readouterr().out


def test_accounts_refusals_carry_their_status(services):
    accounts.add(services, "bob", "pw")
    with pytest.raises(CcmgrError) as refused:
        accounts.add(services, "bob", "pw")
    assert (refused.value.code, refused.value.body()["request_status"]) == (400,
                                                                           "InvalidRequest")


def test_ldap_sessions_may_not_change_controllers_and_nothing_is_written(services):
    before = services.store.current().generation
    with pytest.raises(CcmgrError) as refused:
        registry.add(services, registry.Actor("carol", "ldap"),
                     {"url": "c1:9501", "username": "u", "password": "p"})
    assert refused.value.code == 403
    assert services.store.current().generation == before


def test_registry_add_update_remove_and_their_errors(services):
    cli = registry.Actor()
    record = registry.add(services, cli, {"url": "c1:9501", "username": "u", "password": "p"})
    with pytest.raises(DuplicateURL) as dup:
        registry.add(services, cli, {"url": "c1:9501", "username": "u", "password": "p"})
    assert dup.value.code == 425
    updated = registry.update(services, cli, record["xid"],
                              {"url": "c1:9501", "username": "u", "name": "renamed"})
    assert updated["password"] == "p" and updated["name"] == "renamed"  # secret kept
    with pytest.raises(UnknownController) as missing:
        registry.remove(services, cli, "nothing")
    assert missing.value.code == 404
    assert registry.remove(services, cli, record["xid"])["url"] == "c1:9501"
    assert services.store.current().instances == []


def test_an_update_to_ldap_drops_the_secrets_and_a_new_username_does_not_keep_them():
    doc = {"instances": [{"xid": "x1", "url": "c1:9501", "username": "u", "password": "p"}]}
    assert "password" not in replace(doc, "x1", {"url": "c1:9501", "username": "v",
                                                 "keyfile": "/k"})
    ldap = replace(doc, "x1", {"url": "c1:9501", "useldap": True, "username": "u",
                               "password": "p"})
    assert not {"username", "password", "keyfile"} & set(ldap)


def test_peers_and_settings_are_typed_with_one_default_each():
    config = parse_config("/x/ccmgr.yaml", {"peers": [{"name": "b", "address": "10.0.0.2"}]})
    peer = config.peers[0]
    assert (peer.name, peer.address, peer.port, peer.ssh_port, peer.ssh_user) == (
        "b", "10.0.0.2", 19051, 22, "ccmgr")
    settings = config.settings
    assert (settings.cache_ttl, settings.fetch_concurrency, settings.replication_wait,
            settings.port) == (60, 512, 5, 19051)
    assert config.doc["peers"] == [{"name": "b", "address": "10.0.0.2"}]  # written as read


def test_a_bool_is_not_an_int_in_requests_config_and_bundles():
    with pytest.raises(InvalidRequest, match='field "page" must be an integer'):
        check_fields({"page": True}, {"page": int})
    with pytest.raises(ConfigError, match="expected an integer"):
        parse_config("/x/ccmgr.yaml", {"peers": [{"name": "b", "address": "a",
                                                  "ssh_port": True}]})
    bundle = {"version": 1, "from": "a", "epoch": True, "generation": 1, "sha256": "",
              "shared": {}, "secret": "s" * 40, "revocations": {}}
    with pytest.raises(BundleRejected, match="'epoch'"):
        _check_shape(bundle, "a", "b")


class _RecordingPool(HttpPool):
    def __init__(self) -> None:
        super().__init__()
        self.forgotten: list[str] = []

    def forget(self, base_url: str) -> None:
        self.forgotten.append(base_url)
        super().forget(base_url)


def test_removed_or_moved_controllers_lose_their_connection_pools():
    dropped = []
    clients = ClientRegistry(_RecordingPool(), dropped.append)
    pool = clients.http
    one = {"xid": "x1", "url": "c1:9501", "username": "u", "password": "p"}
    two = {"xid": "x2", "url": "c2:9501", "username": "u", "password": "p"}
    clients.sync(parse_config("/x/ccmgr.yaml", {"instances": [one, two]}))
    clients.sync(parse_config("/x/ccmgr.yaml", {"instances": [one, {**two,
                                                                     "password": "q"}]}))
    assert pool.forgotten == []  # a new password keeps the URL: the pool stays
    assert len(dropped) == 1  # but its cached data go
    clients.sync(parse_config("/x/ccmgr.yaml", {"instances": [{**one, "url": "c3:9501"}]}))
    assert sorted(pool.forgotten) == ["https://c1:9501", "https://c2:9501"]


def test_versioned_memo_serves_only_the_versions_it_was_made_from():
    memo = VersionedMemo(size=2)
    memo.store("q", 1, "a")
    assert memo.lookup("q", 1) == "a" and memo.lookup("q", 2) is None
    memo.store("q", 2, "b")
    assert memo.lookup("q", 1) is None and len(memo) == 1
    memo.store("r", 1, "c")
    memo.keep_only(lambda version: version == 2)
    assert memo.values() == ["b"]
