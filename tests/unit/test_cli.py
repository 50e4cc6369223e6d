import json
import stat

import pytest
import yaml
from ccmgr.cli import main
from ccmgr.passwords import verify_password


@pytest.fixture
def cli(basedir, monkeypatch):
    monkeypatch.setenv("CCMGR_BASEDIR", str(basedir))

    def run(*argv, stdin=""):
        import io
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main(list(argv))
    return run


def config(basedir):
    return yaml.safe_load((basedir / "ccmgr.yaml").read_text())


def test_banner_goes_to_stderr_and_data_to_stdout(cli, capsys):
    assert cli("listcontrollers") == 0
    out, err = capsys.readouterr()
    assert err.startswith("ClusterControl Manager - admin CLI v2.2")
    assert out == "\nControllers from configuration:\n"


def test_adduser_from_stdin_hashes_and_reports_no_daemon(cli, basedir, capsys):
    assert cli("adduser", "bob", "-e", "bob@example.com", stdin="s3cret\n") == 0
    out = capsys.readouterr().out
    assert "Succeed, reloading daemon." in out
    assert "No ccmgr daemon answered" in out
    user = config(basedir)["users"][0]
    assert user["username"] == "bob" and user["email"] == "bob@example.com"
    assert verify_password("s3cret", user["passwordhash"])
    assert "s3cret" not in (basedir / "ccmgr.yaml").read_text()
    assert stat.S_IMODE((basedir / "ccmgr.yaml").stat().st_mode) == 0o600


def test_password_on_argv_works_but_warns(cli, basedir, capsys):
    assert cli("adduser", "bob", "pw") == 0
    assert "visible to every user in the process list" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "stdin", "message"), [
    (("adduser", "bob"), "\n", "A non-empty password is required."),
    (("adduser", "bad name"), "pw\n", "invalid username"),
    (("adduser", "bob", "-e", "nope"), "pw\n", "User add failed: invalid e-mail"),
    (("setpassword", "ghost"), "pw\n", "User not found."),
    (("dropuser", "ghost"), "", "Removing user has failed: user not found"),
    (("addcontroller", "x"), "", "Error, controller URL can not be empty."),
    (("addcontroller", "cmon:9501"), "", "missing username"),
    (("updatecontroller", "cmon:9501"), "", "Couldn't find controller."),
    (("dropcontroller", "nothing"), "", "Controller not found"),
])
def test_errors_are_one_line_and_exit_1(cli, capsys, argv, stdin, message):
    assert cli(*argv, stdin=stdin) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("ccmgradm: error: ") and message in err[-1]


def test_duplicate_user_is_refused(cli, capsys):
    assert cli("adduser", "bob", stdin="pw\n") == 0
    assert cli("adduser", "bob", stdin="pw\n") == 1
    assert "User already exists." in capsys.readouterr().err


def test_usage_errors_exit_2(cli, capsys):
    assert cli() == 2
    assert cli("bogus") == 2
    assert cli("adduser") == 2


def test_setpassword_changes_hash_and_email(cli, basedir):
    cli("adduser", "bob", stdin="one\n")
    assert cli("setpassword", "bob", "-e", "b@x.org", stdin="two\n") == 0
    user = config(basedir)["users"][0]
    assert verify_password("two", user["passwordhash"]) and user["email"] == "b@x.org"


def test_controller_lifecycle_and_listing(cli, basedir, capsys):
    assert cli("addcontroller", "-u", "cmonuser", "-n", "east", "--password-stdin",
               "-f", "https://east/ui", "10.0.0.5:9501", stdin="rpcpw\n") == 0
    assert cli("addcontroller", "-l", "-n", "LDAPONE", "-f", "https://ldap.myserver.tld",
               "ldap.myserver.tld:9501") == 0
    capsys.readouterr()
    assert cli("listcontrollers") == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "Controllers from configuration:",
        "* 10.0.0.5:9501 [east] Static user: cmonuser Web-UI:https://east/ui",
        "* ldap.myserver.tld:9501 [LDAPONE] *LDAP authentication* Web-UI:https://ldap.myserver.tld",
    ]
    assert cli("addcontroller", "-u", "x", "10.0.0.5:9501", stdin="pw\n") == 1
    assert cli("updatecontroller", "-n", "west", "10.0.0.5:9501") == 0
    instances = config(basedir)["instances"]
    assert instances[0]["name"] == "west" and instances[0]["password"] == "rpcpw"
    assert cli("dropcontroller", "west") == 0
    assert [i["url"] for i in config(basedir)["instances"]] == ["ldap.myserver.tld:9501"]


def test_init_sets_port_frontend_and_local_controller(cli, basedir, tmp_path, capsys):
    cnf = tmp_path / "cmon.cnf"
    cnf.write_text("hostname=127.0.0.1\nrpc_key='abc123'\n")
    assert cli("init", "-p", "19443", "-f", "/var/www/frontend", "--local-cmon",
               "-c", str(cnf)) == 0
    out = capsys.readouterr().out
    assert "Changing port from 19051 to 19443" in out
    assert "Controller 127.0.0.1:9501 registered successfully" in out
    doc = config(basedir)
    assert doc["port"] == 19443 and doc["frontend_path"] == "/var/www/frontend"
    assert doc["instances"][0]["password"] == "abc123"
    assert doc["single_controller"] == doc["instances"][0]["xid"]


def test_invalid_config_is_refused_with_its_line_and_kept(cli, basedir, capsys):
    (basedir / "ccmgr.yaml").write_text("users:\n  - username: a\n bad\n")
    assert cli("adduser", "bob", stdin="pw\n") == 1
    err = capsys.readouterr().err
    assert "line" in err and "ccmgr.yaml" in err
    assert (basedir / "ccmgr.yaml").read_text() == "users:\n  - username: a\n bad\n"


def test_missing_basedir_is_a_clear_error(cli, tmp_path, capsys):
    assert cli("--basedir", str(tmp_path / "nope"), "listcontrollers") == 1
    assert "does not exist" in capsys.readouterr().err


def test_node_set_changes_only_local_keys_and_reports_idempotently(cli, basedir, capsys):
    assert cli("node", "set", "node_name=ccm1", "role=secondary", "trusted_proxies=10.0.0.1",
               'peers=[{"name": "ccm2", "address": "10.0.0.12"}]') == 0
    assert capsys.readouterr().out.strip() == "changed"
    doc = config(basedir)
    assert doc["node_name"] == "ccm1" and doc["role"] == "secondary"
    assert doc["trusted_proxies"] == ["10.0.0.1"] and doc["peers"][0]["name"] == "ccm2"
    assert doc.get("generation", 0) == 0  # node-local: the shared generation is untouched
    assert cli("node", "set", "node_name=ccm1", "--json") == 0
    assert capsys.readouterr().out.strip() == '{"changed": false}'
    assert cli("node", "set", "--initial", "role=primary") == 0
    assert config(basedir)["role"] == "secondary"


@pytest.mark.parametrize("assignment", ["users=x", "port=0", "port=http", "role=leader",
                                        "peers=notjson", "novalue"])
def test_node_set_refuses_bad_assignments(cli, assignment, capsys):
    assert cli("node", "set", assignment) == 1
    assert capsys.readouterr().err.splitlines()[-1].startswith("ccmgradm: error: ")


def test_seed_is_idempotent_and_updates_what_differs(cli, basedir, capsys):
    document = json.dumps({
        "users": [{"username": "ops", "password": "pw1", "email": "o@example.com"}],
        "controllers": [{"url": "10.0.0.20:9501", "name": "c1", "username": "u",
                         "password": "p"}]})
    assert cli("seed", stdin=document) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["changed"] and first["users_added"] == ["ops"]
    assert cli("seed", stdin=document) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is False
    changed = document.replace("pw1", "pw2").replace('"c1"', '"c2"')
    assert cli("seed", stdin=changed) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["users_updated"] == ["ops"]
    assert report["controllers_updated"] == ["10.0.0.20:9501"]
    doc = config(basedir)
    assert verify_password("pw2", doc["users"][0]["passwordhash"])
    assert doc["instances"][0]["name"] == "c2"


@pytest.mark.parametrize("stdin", ["not json", "[]", '{"hosts": []}', '{"users": [{"x": 1}]}',
                                   '{"controllers": [{"url": "a:1"}]}'])
def test_seed_refuses_bad_documents_and_changes_nothing(cli, basedir, capsys, stdin):
    assert cli("seed", stdin=stdin) == 1
    assert not (basedir / "ccmgr.yaml").exists()


def test_controllers_with_a_keyfile(cli, basedir, capsys, tmp_path, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    def pem(key) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())

    (tmp_path / "cmon.key").write_bytes(pem(rsa.generate_private_key(65537, 2048)))
    (tmp_path / "ec.key").write_bytes(pem(ec.generate_private_key(ec.SECP256R1())))
    monkeypatch.chdir(tmp_path)  # a relative path is stored absolute
    assert cli("addcontroller", "-u", "cmonuser", "-k", "cmon.key", "10.0.0.5:9501") == 0
    instance = config(basedir)["instances"][0]
    assert instance["keyfile"] == str(tmp_path / "cmon.key") and "password" not in instance
    capsys.readouterr()
    assert cli("addcontroller", "-u", "u", "-k", "ec.key", "10.0.0.6:9501") == 1
    assert capsys.readouterr().err.splitlines()[-1] == "ccmgradm: error: keyfile: not an RSA key"
    assert cli("addcontroller", "-u", "u", "-k", "none.key", "10.0.0.6:9501") == 1
    assert "cannot read the keyfile: No such file" in capsys.readouterr().err
    assert len(config(basedir)["instances"]) == 1
    # A password replaces the key login only when given; a new key drops the password.
    assert cli("updatecontroller", "--password-stdin", "-u", "cmonuser", "10.0.0.5:9501",
               stdin="pw\n") == 0
    assert config(basedir)["instances"][0]["password"] == "pw"
    assert cli("updatecontroller", "-u", "cmonuser", "-k", "cmon.key", "10.0.0.5:9501") == 0
    assert "password" not in config(basedir)["instances"][0]
