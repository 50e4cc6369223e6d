"""Issue 8 on the lab: the HA pair deployed by site.yml, through HAProxy, real nodes.

Every load loop is bounded in count and time; only lab addresses are used. Each test puts
the deployment back as it found it (services started, partitions healed, roles restored).
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from labkit import Lab
from testkit import poll

pytestmark = pytest.mark.lab

PLAN = Lab.from_env()
LB = PLAN.vip  # the service address of the balancer pair
PRIMARY = PLAN.groups["ccm_primary"][0]
SECONDARY = PLAN.groups["ccm_secondary"][0]
NODES = PLAN.groups["ccm"]
ADMIN_EMAIL = "admin@lab.test"  # what ansible/vars/lab.yml seeds; tests restore it


def client(node: str | None = None) -> requests.Session:
    """A browser-like client of the balancer; ``node`` pins it with HAProxy's SVR cookie."""
    s = requests.Session()
    s.trust_env = False
    s.verify = str(PLAN.paths.state / "pki" / "ca.crt")
    if node:
        s.cookies.set("SVR", node, domain=LB)
    return s


def login(s: requests.Session) -> requests.Response:
    reply = s.post(f"https://{LB}/proxy/auth/login", timeout=30, data=json.dumps(
        {"username": "admin", "password": PLAN.admin_password()}))
    assert reply.status_code == 200, reply.text
    return reply


def update_profile(s: requests.Session, **fields: str) -> requests.Response:
    user = {"username": "admin", "email": ADMIN_EMAIL, **fields}
    return s.post(f"https://{LB}/proxy/auth/update", data=json.dumps({"user": user}),
                  timeout=60)


def node_health(lab: Lab, node: str) -> dict:
    out = lab.ssh(node, f"curl -sS --max-time 5 --cacert /var/lib/ccmgr/tls/ca.pem "
                        f"https://{node}:19051/health", check=False)
    try:
        return json.loads(out.stdout)
    except ValueError:
        return {}


def positions(lab: Lab) -> list[tuple]:
    return [(h.get("epoch"), h.get("generation"), h.get("sha256"))
            for h in (node_health(lab, n) for n in NODES)]


def converged(lab: Lab) -> bool:
    found = positions(lab)
    return len(set(found)) == 1 and found[0][1] is not None


def partition(lab: Lab, node: str, peer: str) -> None:
    """Drop all traffic between node and peer, inside node (its own nftables table)."""
    address = lab.hosts[peer]
    rules = [
        "table inet lab_partition {",
        f"  chain input {{ type filter hook input priority -50; ip saddr {address} drop; }}",
        f"  chain output {{ type filter hook output priority -50; ip daddr {address} drop; }}",
        "}",
    ]
    lab.ssh(node, "nft -f - <<'EOF'\n" + "\n".join(rules) + "\nEOF")


def heal(lab: Lab, node: str) -> None:
    lab.ssh(node, "nft delete table inet lab_partition", check=False)


@pytest.fixture(scope="module")
def pair(site: Lab) -> Lab:
    assert poll(lambda: converged(site), 30), positions(site)
    health = {n: node_health(site, n) for n in NODES}
    assert health[PRIMARY]["role"] == "primary", health
    assert health[SECONDARY]["role"] == "secondary", health
    return site


def test_kill_9_of_the_sticky_nodes_master_under_load_fails_no_request(pair):
    lab = pair
    s = client()
    login(s)
    first = s.post(f"https://{LB}/proxy/auth/check", timeout=10)
    sticky = first.headers["X-Ccmgr-Node"]
    results: list[tuple[float, int, str]] = []

    def load() -> None:  # 20 requests/s for at most 30 s: 600 requests
        started = time.monotonic()
        for _ in range(600):
            if time.monotonic() - started > 30:
                break
            try:
                reply = s.post(f"https://{LB}/proxy/auth/check", timeout=10)
                results.append((time.monotonic(), reply.status_code,
                                reply.headers.get("X-Ccmgr-Node", "")))
            except requests.RequestException as exc:
                results.append((time.monotonic(), 0, type(exc).__name__))
            time.sleep(0.05)

    worker = threading.Thread(target=load)
    worker.start()
    time.sleep(5)
    killed_at = time.monotonic()
    lab.ssh(sticky, "kill -9 $(systemctl show -p MainPID --value ccmgr)")
    worker.join(timeout=60)
    try:
        failures = [r for r in results if r[1] != 200]
        after = [r for r in results if r[0] > killed_at + 1]
        print(f"\n{len(results)} requests, {len(failures)} failed; kill -9 on {sticky}; "
              f"nodes after: {sorted({r[2] for r in after})}")
        assert len(results) >= 300
        assert failures == []
        # The same login kept working on the other node without logging in again.
        assert any(node != sticky for _, _, node in after)
    finally:
        assert poll(lambda: lab.ssh(sticky, "systemctl is-active ccmgr",
                                        check=False).stdout.strip() == "active", 30)


def test_a_write_sent_to_the_secondary_lands_on_the_primary_and_both_agree(pair):
    lab = pair
    s = client(SECONDARY)
    login(s)
    before = node_health(lab, PRIMARY)["generation"]
    try:
        reply = update_profile(s, lastname="ViaSecondary")
        assert reply.status_code == 200, reply.text
        assert reply.headers["X-Ccmgr-Node"] == SECONDARY
        assert reply.headers["X-Ccmgr-Primary"] == PRIMARY
        assert node_health(lab, PRIMARY)["generation"] == before + 1
        assert converged(lab), positions(lab)  # replicated before the reply came back
    finally:
        assert update_profile(client_with_login(), lastname="").status_code == 200


def client_with_login() -> requests.Session:
    s = client()
    login(s)
    return s


def test_primary_stopped_reads_work_writes_are_503_and_nothing_changes(pair):
    """The primary's host is gone: its service is stopped and the secondary cannot reach it
    (with only the service stopped, ccmgradm on the secondary still writes on the primary's
    host over SSH, which is right)."""
    lab = pair
    s = client()
    login(s)
    lab.ssh(PRIMARY, "systemctl stop ccmgr")
    partition(lab, PRIMARY, SECONDARY)
    try:
        before = positions(lab)[NODES.index(SECONDARY)]
        files = {n: lab.ssh(n, "sha256sum /var/lib/ccmgr/ccmgr.yaml").stdout for n in NODES}
        for _ in range(10):
            assert s.post(f"https://{LB}/proxy/auth/check", timeout=10).status_code == 200
        reply = update_profile(s, lastname="NotWhilePrimaryIsDown")
        assert reply.status_code == 503
        assert reply.json()["request_status"] == "TryAgain"
        assert "unreachable" in reply.json()["error_string"]
        done = lab.ssh(SECONDARY, "echo pw | ccmgradm adduser --password-stdin nobody-new",
                       check=False)
        assert done.returncode == 1 and "nothing was changed" in done.stderr
        assert positions(lab)[NODES.index(SECONDARY)] == before
        assert {n: lab.ssh(n, "sha256sum /var/lib/ccmgr/ccmgr.yaml").stdout
                for n in NODES} == files
    finally:
        heal(lab, PRIMARY)
        lab.ssh(PRIMARY, "systemctl start ccmgr")
    assert poll(lambda: converged(lab), 30)


def test_partitioned_secondary_is_behind_and_catches_up_within_10s_after_healing(pair):
    lab = pair
    name = f"part{int(time.time())}"
    partition(lab, PRIMARY, SECONDARY)
    try:
        done = lab.ssh(PRIMARY, f"echo Part-pw-1 | ccmgradm adduser --password-stdin {name}",
                       check=False, timeout=90)
        assert done.returncode == 0, done.stderr
        status = json.loads(lab.ssh(PRIMARY, "ccmgradm ha status --json").stdout)
        peer = next(p for p in status["peers"] if p["name"] == SECONDARY)
        assert not peer["in_sync"] and peer["lag_generations"] >= 1
        assert not converged(lab)
    finally:
        heal(lab, PRIMARY)
    healed = time.monotonic()
    assert poll(lambda: converged(lab), 10, 0.2), positions(lab)
    print(f"\ncaught up {time.monotonic() - healed:.1f}s after healing")
    lab.ssh(PRIMARY, f"ccmgradm dropuser {name}")
    assert poll(lambda: converged(lab), 15)


def _bundle_on_primary(lab: Lab) -> dict:
    out = lab.ssh(PRIMARY, "runuser -u ccmgr -- /opt/ccmgr/bin/python -c 'import json; "
                           "from ccmgr.ha.bundle import make_bundle; "
                           "from ccmgr.runtime import Services; "
                           "print(json.dumps(make_bundle(Services.from_basedir("
                           "\"/var/lib/ccmgr\"))))'")
    return json.loads(out.stdout)


@pytest.mark.parametrize("tamper", ["replayed_older", "wrong_hash", "fails_validation"])
def test_bad_bundles_over_the_replication_channel_are_rejected(pair, tamper):
    lab = pair
    from ccmgr.config.schema import shared_sha256

    bundle = _bundle_on_primary(lab)
    if tamper == "replayed_older":
        bundle["generation"] -= 1
    elif tamper == "wrong_hash":
        bundle["shared"]["timeout"] = 7
        bundle["generation"] += 10
    else:
        bundle["shared"]["users"] = [{"username": "bad name with spaces", "x": 1}, {}]
        bundle["generation"] += 10
        bundle["sha256"] = shared_sha256(bundle["shared"])
    before = positions(lab)
    lab.ssh(PRIMARY, "cat > /run/ccmgr-test-bundle.json <<'EOF'\n"
                     + json.dumps(bundle) + "\nEOF")
    try:
        done = lab.ssh(PRIMARY, "runuser -u ccmgr -- ssh -T -i /var/lib/ccmgr/.ssh/"
                                "id_replication -o BatchMode=yes -o UserKnownHostsFile="
                                f"/var/lib/ccmgr/.ssh/known_hosts ccmgr@{SECONDARY} push "
                                "< /run/ccmgr-test-bundle.json", check=False)
    finally:
        lab.ssh(PRIMARY, "rm -f /run/ccmgr-test-bundle.json")
    assert done.returncode != 0
    assert json.loads(done.stdout)["status"] == "rejected"
    assert positions(lab) == before


def test_promote_the_secondary_then_the_old_primary_returns_as_secondary(pair):
    lab = pair
    name = f"acked{int(time.time())}"
    assert lab.ssh(PRIMARY, f"echo Acked-pw-1 | ccmgradm adduser --password-stdin {name}",
                   check=False).returncode == 0
    assert poll(lambda: converged(lab), 10)
    epoch = node_health(lab, PRIMARY)["epoch"]
    lab.ssh(PRIMARY, "systemctl stop ccmgr")
    partition(lab, PRIMARY, SECONDARY)  # the old primary is gone for the others
    try:
        done = lab.ssh(SECONDARY, "ccmgradm promote", timeout=60)
        assert f"is now the primary (epoch {epoch + 1})" in done.stdout
        s = client()
        login(s)
        reply = update_profile(s, lastname="NewPrimary")  # reaches the new primary via HAProxy
        assert reply.status_code == 200, reply.text
    finally:
        heal(lab, PRIMARY)
        lab.ssh(PRIMARY, "systemctl start ccmgr")
    try:
        assert poll(lambda: node_health(lab, PRIMARY).get("role") == "secondary", 30)
        assert poll(lambda: converged(lab), 30), positions(lab)
        users = lab.ssh(PRIMARY, "grep -c 'username: " + name + "' /var/lib/ccmgr/ccmgr.yaml")
        assert users.stdout.strip() == "1"  # the acknowledged write survived
        assert node_health(lab, SECONDARY)["role"] == "primary"
        assert node_health(lab, PRIMARY)["epoch"] == epoch + 1
    finally:
        # Put the roles back as the inventory has them, for the tests that follow.
        lab.ssh(PRIMARY, "ccmgradm promote", timeout=60)
        assert poll(lambda: node_health(lab, SECONDARY).get("role") == "secondary", 30)
        assert poll(lambda: converged(lab), 30), positions(lab)
        update_profile(client_with_login(), lastname="")
        lab.ssh(PRIMARY, f"ccmgradm dropuser {name}")
        assert poll(lambda: converged(lab), 15)
