import pytest
from ccmgr.clientaddr import ClientAddress
from ccmgr.instances import InstanceError, add, default_name, drop, update
from ccmgr.ratelimit import LoginLimiter
from ccmgr.xid import is_xid, new_xid


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def test_limiter_blocks_after_max_failures_and_forgets_after_window():
    clock = Clock()
    limiter = LoginLimiter(max_failures=3, window_s=10, clock=clock)
    for _ in range(3):
        assert limiter.begin("a", "u")
    assert not limiter.begin("a", "v")
    assert limiter.begin("b", "v")
    clock.now = 10.5
    assert limiter.begin("a", "u")


def test_limiter_success_takes_back_that_users_failures():
    limiter = LoginLimiter(max_failures=1)
    assert limiter.begin("a", "u")
    assert not limiter.begin("a", "u")
    limiter.succeeded("a", "u")
    assert limiter.begin("a", "u")


def test_forwarded_for_is_believed_only_from_trusted_proxies():
    resolver = ClientAddress(["10.0.0.0/24"])
    assert resolver.resolve("203.0.113.9", "1.2.3.4") == "203.0.113.9"
    assert resolver.resolve("10.0.0.5", "1.2.3.4") == "1.2.3.4"
    assert resolver.resolve("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.7") == "1.2.3.4"
    assert resolver.resolve("10.0.0.5", "not-an-ip") == "10.0.0.5"
    assert ClientAddress([]).resolve("127.0.0.1", "1.2.3.4") == "127.0.0.1"


def test_xids_are_20_base32hex_chars_in_creation_order():
    first, second = new_xid(now=1_600_000_000), new_xid(now=1_700_000_000)
    assert is_xid(first) and is_xid(second) and first < second


def test_controller_add_update_drop():
    doc = {"instances": []}
    record = add(doc, {"url": "cmon1:9501", "username": "u", "password": "p"})
    assert record["name"] == "cmon1" and is_xid(record["xid"])
    with pytest.raises(InstanceError, match="already exists"):
        add(doc, {"url": "cmon1:9501", "username": "u", "password": "p"})
    with pytest.raises(InstanceError, match="missing username"):
        add(doc, {"url": "cmon2:9501"})
    ldap = add(doc, {"url": "l:9501", "useldap": True, "username": "x", "password": "y"})
    assert "password" not in ldap and "username" not in ldap
    update(doc, "cmon1:9501", {"name": "renamed"}, use_ldap=False)
    assert doc["instances"][0]["name"] == "renamed"
    with pytest.raises(InstanceError, match="credentials can not be empty"):
        update(doc, "l:9501", {}, use_ldap=False)
    drop(doc, "renamed")
    assert [i["url"] for i in doc["instances"]] == ["l:9501"]
    assert default_name("host.example:9443/api") == "host.example"
