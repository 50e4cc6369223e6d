"""Read-only accounts (issue 13 item 6): role admin | viewer, enforced on every write."""

from __future__ import annotations

import json

import pytest
import yaml
from ccmgr import accounts
from ccmgr.cli import main
from ccmgr.config.store import read_config
from ccmgr.users import UserError

READS = ["/proxy/controllers/status", "/proxy/clusters/status", "/proxy/clusters/list",
         "/proxy/clusters/hosts", "/proxy/clusters/missingSchedules", "/proxy/alarms/status",
         "/proxy/alarms/list", "/proxy/jobs/status", "/proxy/jobs/list",
         "/proxy/backups/status", "/proxy/backups/list", "/proxy/backups/schedules",
         "/proxy/logs/list", "/proxy/audit/list", "/proxy/ha/status"]
CONTROLLER_WRITES = {
    "/proxy/controllers/add": {"controller": {"url": "127.0.0.1:9/x", "username": "u",
                                              "password": "p"}},
    "/proxy/controllers/update": {"controller": {"xid": "x", "url": "127.0.0.1:9/x"}},
    "/proxy/controllers/remove": {"xid": "x"},
    "/proxy/controllers/test": {"controller": {"url": "127.0.0.1:9/x", "username": "u",
                                               "password": "p"}},
}


@pytest.fixture
def viewer(harness):
    accounts.add(harness.services, "vera", "Vera-pw-1", role="viewer")
    return harness.login("vera", "Vera-pw-1")


def test_check_reports_the_role(harness, viewer):
    reply = harness.post("/proxy/auth/check", sid=viewer)
    assert reply.status_code == 200
    assert reply.json["user"] == {"username": "vera", "role": "viewer"}
    admin = harness.post("/proxy/auth/check", sid=harness.login())
    assert admin.json["user"]["role"] == "admin"


@pytest.mark.parametrize("path", READS)
def test_a_viewer_reads_every_aggregate_and_status(harness, viewer, path):
    reply = harness.post(path, {}, sid=viewer)
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("path", sorted(CONTROLLER_WRITES))
def test_a_viewer_cannot_change_or_test_controllers(harness, viewer, path):
    before = harness.services.store.current().sha256
    reply = harness.post(path, CONTROLLER_WRITES[path], sid=viewer)
    assert reply.status_code == 403
    assert reply.json == {"type": "AccessDenied",
                          "message": "this account is read-only (role viewer)"}
    assert harness.services.store.current().sha256 == before


def test_a_viewer_cannot_reload_but_may_change_their_own_password(harness, viewer):
    reply = harness.client.simulate_post("/proxy/admin/reload", cookies={"sid": viewer})
    assert reply.status_code == 403
    assert reply.json["request_status"] == "AccessDenied"
    assert set(reply.json) == {"request_created", "request_processed", "request_status",
                               "error_string"}
    changed = harness.post("/proxy/auth/setpassword", {"old_password": "Vera-pw-1",
                                                       "new_password": "Vera-pw-2"}, sid=viewer)
    assert changed.status_code == 200
    assert changed.json["user"]["role"] == "viewer"


def test_a_demoted_admin_is_read_only_at_once(harness):
    accounts.add(harness.services, "otto", "Otto-pw-1")
    sid = harness.login("otto", "Otto-pw-1")
    body = CONTROLLER_WRITES["/proxy/controllers/remove"]
    assert harness.post("/proxy/controllers/remove", body, sid=sid).status_code == 404
    accounts.set_role(harness.services, "otto", "viewer")
    assert harness.post("/proxy/controllers/remove", body, sid=sid).status_code == 403
    accounts.set_role(harness.services, "otto", "admin")
    assert harness.post("/proxy/controllers/remove", body, sid=sid).status_code == 404


def test_the_last_admin_can_be_neither_dropped_nor_demoted(harness):
    accounts.add(harness.services, "vera", "Vera-pw-1", role="viewer")
    with pytest.raises(UserError, match="last admin"):
        accounts.drop(harness.services, "admin")
    with pytest.raises(UserError, match="last admin"):
        accounts.set_role(harness.services, "admin", "viewer")
    accounts.drop(harness.services, "vera")  # a viewer goes without fuss
    accounts.add(harness.services, "ada", "Ada-pw-1")
    accounts.set_role(harness.services, "admin", "viewer")  # another admin remains
    accounts.drop(harness.services, "admin")
    assert [u["username"] for u in harness.services.store.current().users] == ["ada"]


def test_a_cmon_proxy_file_loads_with_every_user_an_admin(basedir):
    legacy = {"instances": [], "users": [
        {"username": "admin", "passwordhash": "x"}, {"username": "ops", "email": "o@p.q",
                                                     "passwordhash": "y"}]}
    path = basedir / "ccmgr.yaml"
    path.write_text(yaml.safe_dump(legacy))
    config = read_config(str(path))
    from ccmgr.users import role_of
    assert [role_of(u) for u in config.users] == ["admin", "admin"]


def test_an_unknown_role_in_the_file_is_refused_with_its_key(basedir):
    path = basedir / "ccmgr.yaml"
    path.write_text(yaml.safe_dump({"users": [{"username": "a", "role": "root"}]}))
    from ccmgr.errors import ConfigError
    with pytest.raises(ConfigError, match=r"users\[0\]\.role"):
        read_config(str(path))


@pytest.fixture
def cli(basedir, monkeypatch):
    monkeypatch.setenv("CCMGR_BASEDIR", str(basedir))

    def run(*argv, stdin=""):
        import io
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main(list(argv))
    return run


def test_ccmgradm_adduser_role_setrole_and_listusers(cli, basedir, capsys):
    assert cli("adduser", "boss", "--password-stdin", stdin="Boss-pw-1\n") == 0
    assert cli("adduser", "vera", "--role", "viewer", "--password-stdin",
               stdin="Vera-pw-1\n") == 0
    capsys.readouterr()
    assert cli("listusers") == 0
    out = capsys.readouterr().out
    assert "* boss [admin]" in out and "* vera [viewer]" in out
    assert "pw" not in out and "hash" not in out
    assert cli("setrole", "vera", "admin") == 0
    assert cli("setrole", "boss", "viewer") == 0
    assert cli("setrole", "vera", "viewer") == 1
    err = capsys.readouterr().err
    assert "ccmgradm: error: 'vera' is the last admin" in err
    assert cli("dropuser", "vera") == 1
    assert "last admin" in capsys.readouterr().err
    assert cli("setrole", "ghost", "viewer") == 1
    assert "User not found." in capsys.readouterr().err
    roles = {u["username"]: u["role"] for u in
             yaml.safe_load((basedir / "ccmgr.yaml").read_text())["users"]}
    assert roles == {"boss": "viewer", "vera": "admin"}


def test_ccmgradm_setrole_refuses_an_unknown_role(cli, capsys):
    assert cli("adduser", "boss", "--password-stdin", stdin="Boss-pw-1\n") == 0
    assert cli("setrole", "boss", "root") != 0
    assert "invalid choice" in capsys.readouterr().err


def test_login_reply_is_json_with_the_role(harness, viewer):
    reply = harness.client.simulate_post("/proxy/auth/login", body=json.dumps(
        {"username": "vera", "password": "Vera-pw-1"}))
    assert reply.json["user"]["role"] == "viewer"
