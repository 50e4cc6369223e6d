"""Readers get the config's controllers and users as frozen objects, parsed once per file
version; the document keeps the records (unknown keys included) for the write path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from ccmgr.config import ConfigStore
from ccmgr.config.model import Instance, User
from ccmgr.users import public_user

YAML = """\
instances:
    - xid: dc0no45qmd2opbn2qtr0
      url: 127.0.0.1:9501
      name: local
      useldap: true
      some_future_field: kept
    - xid: chebjd8gfi863qqhrolg
      url: hostname:9443/api
      username: admin
      password: password
users:
    - username: admin
      passwordhash: h
      account_id: a1
    - username: ada
      email: ada@example.com
      role: viewer
"""


@pytest.fixture
def store(basedir):
    path = basedir / "ccmgr.yaml"
    path.write_text(YAML)
    os.utime(path, (1, 1))  # not just written: the store trusts its cache at once
    return ConfigStore(str(path))


def test_controllers_and_users_are_typed_with_the_defaults(store):
    config = store.current()
    local, static = config.controllers
    assert isinstance(local, Instance) and local.useldap and local.username == ""
    assert (static.xid, static.name, static.useldap) == ("chebjd8gfi863qqhrolg", "", False)
    admin, ada = config.local_users
    assert isinstance(admin, User) and admin.account_id == "a1"
    assert (admin.effective_role, ada.effective_role) == ("admin", "viewer")
    assert config.local_user("ada") is ada and config.local_user("nobody") is None


def test_parsed_once_per_file_version(store):
    config = store.current()
    assert store.current().controllers is config.controllers
    assert store.current().local_user("admin") is config.local_user("admin")
    store.update(lambda doc: doc["instances"][1].__setitem__("name", "renamed"))
    after = store.current()
    assert after.controllers is not config.controllers
    assert after.controllers[1].name == "renamed" and config.controllers[1].name == ""


def test_unknown_keys_survive_a_write_but_are_no_attribute(store):
    assert not hasattr(store.current().controllers[0], "some_future_field")
    store.update(lambda doc: doc.__setitem__("timeout", 45))
    written = yaml.safe_load(Path(store.path).read_text())
    assert written["instances"][0]["some_future_field"] == "kept"


def test_client_fingerprint_follows_the_client_fields():
    one = Instance.parse({"xid": "abcd", "url": "a:1", "username": "u", "password": "p"})
    assert one.client_fingerprint == ("a:1", "u", "p", "", "", "")
    assert Instance.parse({**vars(one), "name": "other"}).client_fingerprint \
        == one.client_fingerprint
    assert Instance.parse({"xid": "abcd", "url": "a:1", "useldap": True}).client_fingerprint \
        != one.client_fingerprint
    assert Instance.parse(one) is one


def test_public_user_is_the_same_from_a_record_and_from_the_object(store):
    record = store.current().user("ada")
    assert public_user(record) == public_user(store.current().local_user("ada")) == {
        "username": "ada", "email": "ada@example.com", "role": "viewer"}
    assert public_user({"username": "admin", "passwordhash": "h", "account_id": "a1"}) == {
        "username": "admin", "role": "admin"}
