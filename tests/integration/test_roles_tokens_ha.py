"""Roles and API tokens on a loopback HA pair (issue 13 items 6 and 8): both travel with the
shared config, a viewer is refused on either node, a revoked token is refused on both."""

from __future__ import annotations

import json

import pytest
from hapair import build_pair, login, running, same_shared, sshd_available, wait_for

pytestmark = pytest.mark.skipif(sshd_available() is not None,
                                reason=f"HA pair: {sshd_available()}")


@pytest.fixture
def pair(tmp_path):
    a, b = build_pair(tmp_path)
    with running(a, b) as nodes:
        yield nodes


def _bearer(node, path, token, body="{}"):
    return node.session().post(f"{node.url}{path}", data=body, timeout=30,
                               headers={"Authorization": f"Bearer {token}"})


def test_roles_and_tokens_replicate_and_apply_on_both_nodes(pair):
    a, b = pair
    made = a.ccmgradm("adduser", "vera", "--role", "viewer", "--password-stdin",
                      stdin="Vera-pw-1\n")
    assert made.returncode == 0, made.stderr
    created = a.ccmgradm("token", "create", "ci", "--role", "viewer")
    assert created.returncode == 0, created.stderr
    viewer_token = created.stdout.strip().splitlines()[-1]
    admin_token = a.ccmgradm("token", "create", "ops", "--role", "admin",
                             "--expires", "1").stdout.strip().splitlines()[-1]
    wait_for(lambda: same_shared(a, b))
    roles = {u["username"]: u.get("role") for u in b.config()["users"]}
    assert roles["vera"] == "viewer"
    assert {t["name"] for t in b.config()["tokens"]} == {"ci", "ops"}
    assert viewer_token not in (b.basedir / "ccmgr.yaml").read_text()

    # A viewer session made on the secondary is refused there, before any forwarding.
    s = login(b, "vera", "Vera-pw-1")
    assert s.post(f"{b.url}/proxy/auth/check", data="{}").json()["user"]["role"] == "viewer"
    refused = s.post(f"{b.url}/proxy/controllers/remove", data=json.dumps({"xid": "x"}))
    assert refused.status_code == 403 and "X-Ccmgr-Primary" not in refused.headers
    assert s.post(f"{b.url}/proxy/clusters/status", data="{}").status_code == 200

    for node in (a, b):
        assert _bearer(node, "/proxy/clusters/status", viewer_token).status_code == 200
        assert _bearer(node, "/proxy/controllers/remove", viewer_token,
                       '{"xid": "x"}').status_code == 403
    # An admin token's write on the secondary is answered by the primary.
    forwarded = _bearer(b, "/proxy/controllers/remove", admin_token, '{"xid": "x"}')
    assert forwarded.status_code == 404 and forwarded.headers["X-Ccmgr-Primary"] == "node-a"

    # Verbs run on the secondary go to the primary.
    promoted = b.ccmgradm("setrole", "vera", "admin")
    assert promoted.returncode == 0, promoted.stderr
    revoked = b.ccmgradm("token", "revoke", "ci")
    assert revoked.returncode == 0, revoked.stderr
    wait_for(lambda: same_shared(a, b))
    assert {u["username"]: u.get("role") for u in a.config()["users"]}["vera"] == "admin"
    for node in (a, b):
        reply = _bearer(node, "/proxy/clusters/status", viewer_token)
        assert reply.status_code == 401, node.name
        assert reply.json()["error_string"] == "invalid, revoked or expired API token"
    # A token made from the secondary is made on the primary and printed here once.
    late = b.ccmgradm("token", "create", "late", "--role", "viewer")
    assert late.returncode == 0, late.stderr
    late_token = late.stdout.strip().splitlines()[-1]
    wait_for(lambda: same_shared(a, b))
    for node in (a, b):
        assert _bearer(node, "/proxy/clusters/status", late_token).status_code == 200
    log = (a.basedir / "ccmgr.log").read_text() + (b.basedir / "ccmgr.log").read_text()
    for token in (viewer_token, admin_token, late_token):
        assert token not in log
