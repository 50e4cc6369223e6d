"""API tokens (issue 13 item 8): Bearer tokens with a role; hash-only storage; revoke, expiry."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from ccmgr import accounts, apitokens
from ccmgr.cli import main


def bearer(harness, path, token, body=None):
    return harness.client.simulate_post(path, body="{}" if body is None else body,
                                        headers={"Authorization": f"Bearer {token}"})


def test_a_viewer_token_reads_and_is_refused_on_writes(harness):
    secret, record = accounts.create_token(harness.services, "grafana", "viewer", None)
    assert record == {"name": "grafana", "role": "viewer", "created": record["created"],
                      "expires": 0}
    assert bearer(harness, "/proxy/clusters/status", secret).status_code == 200
    check = bearer(harness, "/proxy/auth/check", secret)
    assert check.json["user"] == {"username": "token:grafana", "role": "viewer",
                                  "token": "grafana"}
    refused = bearer(harness, "/proxy/controllers/remove", secret, '{"xid": "x"}')
    assert refused.status_code == 403 and refused.json["type"] == "AccessDenied"
    assert "Set-Cookie" not in refused.headers


def test_an_admin_token_may_write(harness):
    secret, _ = accounts.create_token(harness.services, "ansible", "admin", 30)
    reply = bearer(harness, "/proxy/controllers/remove", secret, '{"xid": "nosuch"}')
    assert reply.status_code == 404  # allowed through, and the controller is unknown


def test_only_a_hash_is_stored(harness):
    secret, _ = accounts.create_token(harness.services, "ci", "viewer", None)
    text = Path(harness.services.store.path).read_text()
    assert secret not in text
    stored = yaml.safe_load(text)["tokens"][0]
    assert stored["hash"] == apitokens.digest(secret) and stored["role"] == "viewer"


@pytest.mark.parametrize("kind", ["revoked", "expired", "unknown"])
def test_revoked_expired_and_unknown_tokens_are_refused(harness, kind):
    secret, _ = accounts.create_token(harness.services, "ci", "admin", 1)
    assert bearer(harness, "/proxy/clusters/status", secret).status_code == 200
    if kind == "revoked":
        accounts.revoke_token(harness.services, "ci")
    elif kind == "expired":
        def age(doc):
            doc["tokens"][0]["expires"] = int(time.time()) - 1
        harness.services.store.update(age)
    else:
        secret += "x"
    reply = bearer(harness, "/proxy/clusters/status", secret)
    assert reply.status_code == 401
    assert reply.json["request_status"] == "AuthRequired"
    assert reply.json["error_string"] == "invalid, revoked or expired API token"


def test_bad_token_requests_are_refused(harness):
    with pytest.raises(accounts.users.UserError, match="invalid token name"):
        accounts.create_token(harness.services, "bad name", "viewer", None)
    with pytest.raises(accounts.users.UserError, match="invalid role"):
        accounts.create_token(harness.services, "x", "root", None)
    accounts.create_token(harness.services, "x", "viewer", None)
    with pytest.raises(accounts.users.UserError, match="already exists"):
        accounts.create_token(harness.services, "x", "viewer", None)
    with pytest.raises(accounts.users.UserError, match="no token named"):
        accounts.revoke_token(harness.services, "y")


@pytest.fixture
def cli(basedir, monkeypatch):
    monkeypatch.setenv("CCMGR_BASEDIR", str(basedir))
    return lambda *argv: main(list(argv))


def test_ccmgradm_token_create_list_revoke(cli, basedir, capsys):
    assert cli("token", "create", "grafana", "--role", "viewer", "--expires", "30") == 0
    out, err = capsys.readouterr()
    secret = out.strip().splitlines()[0]
    assert secret.startswith("ccmgr_") and len(secret) > 40
    assert "shown only now" in err and secret not in err
    assert cli("token", "list") == 0
    listing = capsys.readouterr().out
    assert "* grafana [viewer] created" in listing and secret not in listing
    assert apitokens.digest(secret) not in listing
    for path in basedir.rglob("*"):  # the config, its history, the log, the audit lines
        assert not path.is_file() or secret not in path.read_text(errors="replace")
    assert cli("token", "create", "grafana", "--role", "viewer") == 1
    assert "already exists" in capsys.readouterr().err
    assert cli("token", "create", "x", "--role", "viewer", "--expires", "0") == 1
    assert "--expires must be between" in capsys.readouterr().err
    assert cli("token", "revoke", "grafana") == 0
    assert "tokens" not in yaml.safe_load((basedir / "ccmgr.yaml").read_text())
    assert cli("token", "revoke", "grafana") == 1
    assert "no token named 'grafana'" in capsys.readouterr().err
