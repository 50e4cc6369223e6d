"""HA behaviour of a primary/secondary pair on loopback: real daemons, real sshd, real keys."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from hapair import build_pair, login, running, same_shared, sshd_available, wait_for

pytestmark = pytest.mark.skipif(sshd_available() is not None,
                                reason=f"HA pair: {sshd_available()}")


@pytest.fixture
def pair(tmp_path):
    a, b = build_pair(tmp_path)
    with running(a, b) as nodes:
        yield nodes


def admin_password(node):
    return (node.basedir / "initial-admin-password").read_text().strip()


def test_secondary_joins_with_the_primary_config_and_secret(pair):
    a, b = pair
    assert a.health()["role"] == "primary" and b.health()["role"] == "secondary"
    assert (a.basedir / "session.key").read_text() == (b.basedir / "session.key").read_text()
    assert a.config()["users"] == b.config()["users"]
    # The secondary never made its own admin: its users are the primary's.
    assert not (b.basedir / "initial-admin-password").exists()


def test_sessions_made_on_either_node_work_on_both_and_logout_revokes_both(pair):
    a, b = pair
    s = login(a, "admin", admin_password(a))
    cookie = s.cookies.get("sid")
    for node in (a, b):
        reply = node.session().post(f"{node.url}/proxy/auth/check", cookies={"sid": cookie})
        assert reply.status_code == 200
    t = login(b, "admin", admin_password(a))
    assert a.session().post(f"{a.url}/proxy/auth/check",
                            cookies={"sid": t.cookies.get("sid")}).status_code == 200
    out = b.session().post(f"{b.url}/proxy/auth/logout", cookies={"sid": cookie})
    assert out.status_code == 200 and out.headers.get("X-Ccmgr-Primary") == "node-a"
    for node in (a, b):
        reply = node.session().post(f"{node.url}/proxy/auth/check", cookies={"sid": cookie})
        assert reply.status_code == 401


def test_write_on_the_primary_is_on_the_secondary_when_answered(pair):
    a, b = pair
    s = login(a, "admin", admin_password(a))
    reply = s.post(f"{a.url}/proxy/auth/update",
                   data=json.dumps({"user": {"username": "admin", "email": "p@example.com"}}))
    assert reply.status_code == 200
    assert b.config()["users"][0]["email"] == "p@example.com"
    assert same_shared(a, b)


def test_write_sent_to_the_secondary_lands_on_the_primary_and_both_agree(pair):
    a, b = pair
    s = login(b, "admin", admin_password(a))
    before = a.health()["generation"]
    reply = s.post(f"{b.url}/proxy/auth/update",
                   data=json.dumps({"user": {"username": "admin", "lastname": "Forwarded"}}))
    assert reply.status_code == 200, reply.text
    assert reply.headers["X-Ccmgr-Primary"] == "node-a"
    assert reply.json()["user"]["lastname"] == "Forwarded"
    assert a.config()["users"][0]["lastname"] == "Forwarded"
    assert a.health()["generation"] == before + 1
    assert same_shared(a, b)


def test_ccmgradm_write_on_the_secondary_runs_on_the_primary(pair):
    a, b = pair
    done = b.ccmgradm("adduser", "carol", "--password-stdin", stdin="Carol-pw1\n")
    assert done.returncode == 0, done.stderr
    assert "Running on the primary node-a" in done.stderr
    assert "Succeed" in done.stdout
    assert any(u["username"] == "carol" for u in a.config()["users"])
    assert same_shared(a, b)
    login(b, "carol", "Carol-pw1")
    listed = b.ccmgradm("listcontrollers")  # reads answer locally
    assert listed.returncode == 0 and "Running on the primary" not in listed.stderr
    status = json.loads(a.ccmgradm("ha", "status", "--json").stdout)
    assert status["role"] == "primary"
    assert status["peers"][0]["in_sync"] and status["peers"][0]["lag_generations"] == 0
    health = b.health()
    assert health["following"] == "node-a" and health["last_received_age_s"] < 60
    assert a.health()["peers"][0]["in_sync"]
    text = a.ccmgradm("ha", "status").stdout
    assert "peer node-b (127.0.0.1): in sync" in text


def test_primary_down_reads_work_writes_503_nothing_changes(pair):
    a, b = pair
    s = login(b, "admin", admin_password(a))
    a.stop()
    a.stop_sshd()
    before_b = (b.basedir / "ccmgr.yaml").read_text()
    before_a = (a.basedir / "ccmgr.yaml").read_text()
    assert s.post(f"{b.url}/proxy/auth/check").status_code == 200
    reply = s.post(f"{b.url}/proxy/auth/update",
                   data=json.dumps({"user": {"username": "admin", "email": "x@y.z"}}))
    assert reply.status_code == 503
    assert reply.json()["request_status"] == "TryAgain"
    assert "unreachable" in reply.json()["error_string"]
    done = b.ccmgradm("adduser", "dave", "--password-stdin", stdin="pw\n")
    assert done.returncode == 1
    assert "unreachable" in done.stderr and "nothing was changed" in done.stderr
    assert (b.basedir / "ccmgr.yaml").read_text() == before_b
    assert (a.basedir / "ccmgr.yaml").read_text() == before_a


def test_logout_on_the_secondary_while_the_primary_is_down_reaches_the_primary(pair):
    a, b = pair
    s = login(b, "admin", admin_password(a))
    cookie = s.cookies.get("sid")
    a.stop()  # the primary's service is down: the logout cannot be forwarded
    out = b.session().post(f"{b.url}/proxy/auth/logout", cookies={"sid": cookie})
    assert out.status_code == 200 and "X-Ccmgr-Primary" not in out.headers
    assert b.session().post(f"{b.url}/proxy/auth/check",
                            cookies={"sid": cookie}).status_code == 401
    a.start()  # its first push brings back what the secondary revoked meanwhile
    started = time.monotonic()
    wait_for(lambda: a.session().post(f"{a.url}/proxy/auth/check",
                                      cookies={"sid": cookie}).status_code == 401, timeout=20)
    print(f"\nthe primary knew of the logout {time.monotonic() - started:.1f}s after its start")
    assert "merged session revocations made on node-b" in (
        a.basedir / "ccmgr.log").read_text()


def test_unreachable_secondary_is_behind_then_catches_up_within_10s(pair):
    a, b = pair
    b.stop_sshd()  # the replication channel is cut; b keeps serving
    started = time.monotonic()
    done = a.ccmgradm("adduser", "erin", "--password-stdin", stdin="pw\n")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30  # the bounded wait, not forever
    status = json.loads(a.ccmgradm("ha", "status", "--json").stdout)
    assert not status["peers"][0]["in_sync"] and status["peers"][0]["error"]
    assert not same_shared(a, b)
    b.start_sshd()
    healed = time.monotonic()
    wait_for(lambda: same_shared(a, b), timeout=10)
    print(f"\ncaught up {time.monotonic() - healed:.1f}s after the channel came back")


def _bundle(a):
    from ccmgr.ha.bundle import make_bundle
    from ccmgr.runtime import Services
    return make_bundle(Services.from_basedir(str(a.basedir)))


@pytest.mark.parametrize("tamper", ["replay_older", "wrong_hash", "invalid", "from_self",
                                    "wrong_sender", "garbage", "non_shared_key"])
def test_bad_bundles_are_rejected_and_change_nothing(pair, tamper):
    a, b = pair
    bundle = _bundle(a)
    sender = "node-a"
    if tamper == "replay_older":
        bundle["generation"] -= 1
    elif tamper == "wrong_hash":
        bundle["shared"]["timeout"] = 99
    elif tamper == "invalid":
        from ccmgr.config.schema import shared_sha256
        bundle["shared"]["users"] = [{"username": ""}]
        bundle["generation"] += 5
        bundle["sha256"] = shared_sha256(bundle["shared"])
    elif tamper == "from_self":
        bundle["from"] = "node-b"
        sender = "node-b"
    elif tamper == "wrong_sender":
        sender = "node-c"
    elif tamper == "non_shared_key":
        bundle["shared"]["port"] = 1
    data = "not json" if tamper == "garbage" else json.dumps(bundle)
    before = (b.basedir / "ccmgr.yaml").read_text()
    done = b.receive(sender, "push", data)
    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert answer["status"] == "rejected" and answer["reason"]
    assert (b.basedir / "ccmgr.yaml").read_text() == before


def test_the_replication_key_cannot_open_a_shell_or_read_files(pair):
    a, _b = pair
    from ccmgr.ha.transport import SshTransport
    transport = SshTransport(str(a.basedir))
    peer = a.config()["peers"][0]
    base = transport.command(peer, "x")[:-1]
    for request in ("id", "cat /etc/shadow", "sh -c id", "/bin/bash", "push; id"):
        done = subprocess.run([*base, request], capture_output=True, text=True, timeout=30,
                              check=False)
        assert done.returncode != 0
        assert "uid=" not in done.stdout and "root:" not in done.stdout
        assert "refused request" in done.stderr
    interactive = subprocess.run([*[c for c in base if c != "-T"], "-tt"], input="id\nexit\n",
                                 capture_output=True, text=True, timeout=30, check=False)
    assert "uid=" not in interactive.stdout
    forward = subprocess.run([*base, "-N", "-L", "127.0.0.1:0:127.0.0.1:22", "-o",
                              "ExitOnForwardFailure=yes"], capture_output=True, text=True,
                             timeout=30, check=False)
    assert forward.returncode != 0


def test_promotion_then_the_old_primary_returns_as_secondary(pair):
    a, b = pair
    assert a.ccmgradm("adduser", "before", "--password-stdin", stdin="pw\n").returncode == 0
    acked = a.health()
    a.stop()
    a.stop_sshd()
    done = b.ccmgradm("promote")
    assert done.returncode == 0, done.stderr
    assert "is now the primary (epoch 1)" in done.stdout
    assert b.health()["role"] == "primary" and b.health()["epoch"] == 1
    assert any(u["username"] == "before" for u in b.config()["users"])  # acknowledged write kept
    assert b.health()["generation"] == acked["generation"]
    assert b.ccmgradm("adduser", "after", "--password-stdin", stdin="pw\n").returncode == 0
    a.start_sshd()
    a.start()
    wait_for(lambda: a.health()["role"] == "secondary", timeout=15)
    wait_for(lambda: same_shared(a, b), timeout=15)
    names = {u["username"] for u in a.config()["users"]}
    assert {"before", "after"} <= names
    assert a.health()["epoch"] == 1


def test_rollback_on_the_primary_restores_an_older_generation_everywhere(pair):
    a, b = pair
    assert a.ccmgradm("adduser", "temp", "--password-stdin", stdin="pw\n").returncode == 0
    generation = a.health()["generation"]
    done = a.ccmgradm("config", "rollback", "--to", str(generation - 1))
    assert done.returncode == 0, done.stderr
    assert not any(u["username"] == "temp" for u in a.config()["users"])
    assert a.health()["generation"] == generation + 1
    assert same_shared(a, b)


def test_controller_add_on_the_secondary_is_made_by_the_primary(pair):
    a, b = pair
    s = login(b, "admin", admin_password(a))
    reply = s.post(f"{b.url}/proxy/controllers/add", data=json.dumps(
        {"controller": {"url": "127.0.0.1:9/fwd", "name": "fwd", "username": "u",
                        "password": "p"}}))
    assert reply.status_code == 200, reply.text
    assert reply.headers["X-Ccmgr-Primary"] == "node-a"
    assert any(i["url"] == "127.0.0.1:9/fwd" for i in a.config()["instances"])
    assert same_shared(a, b)
