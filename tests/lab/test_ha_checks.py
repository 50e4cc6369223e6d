"""The ten acceptance checks of reference/ha-anchors.md §6, on the lab deployed by site.yml.

Every request goes to lab addresses only; every load loop is bounded in count and time.
Tests that change the deployment (a bad config, a stopped node, a drained server) put it
back before they finish, so the file can run in any order and under molecule's verify.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import json
import os
import re
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
from labkit import REPO, VENV_BIN, Lab, venv_env
from testkit import poll

pytestmark = pytest.mark.lab

PLAN = Lab.from_env()
LB = PLAN.vip  # the service address, held by one balancer of the pair
PRIMARY = PLAN.groups["ccm_primary"][0]
NODES = PLAN.groups["ccm"]
SOCKET = "/run/haproxy/admin.sock"
MASTER = "/run/haproxy-master.sock"
CHECK_INTER_S, CHECK_FALL = 1.0, 3  # ansible/vars/lab.yml


# ----------------------------------------------------------------------------- helpers


def ca_file() -> Path:
    return PLAN.paths.state / "pki" / "ca.crt"


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_file()))
    ctx.check_hostname = True
    return ctx


class Reply:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def node(self) -> str | None:
        return self.header("X-Ccmgr-Node")

    def svr(self) -> str | None:
        """The SVR value HAProxy set in this response, if any."""
        for value in self.all("Set-Cookie"):
            m = re.match(r"SVR=([^;]*)", value)
            if m:
                return m.group(1)
        return None


def https(path: str = "/health", cookie: str | None = None, method: str = "GET",
          port: int = 443, timeout: float = 5) -> Reply:
    """One request on a fresh TLS connection to the balancer (verified against our CA)."""
    conn = http.client.HTTPSConnection(LB, port, context=tls_context(), timeout=timeout)
    try:
        headers = {"Cookie": f"SVR={cookie}"} if cookie else {}
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        return Reply(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


def active(lab: Lab) -> str:
    """The balancer holding the service address (the one the requests above reach)."""
    return lab.active_balancer()


def lb_cli(lab: Lab, command: str, sock: str = SOCKET) -> str:
    return lab.ssh(active(lab), f"echo '{command}' | socat -t5 stdio unix-connect:{sock}").stdout


def show_stat(lab: Lab) -> dict[tuple[str, str], dict]:
    text = lb_cli(lab, "show stat").lstrip("# ")
    return {(r["pxname"], r["svname"]): r for r in csv.DictReader(io.StringIO(text))}


def all_up(lab: Lab) -> bool:
    stat = show_stat(lab)
    return all(stat[(be, n)]["status"] == "UP" for be in ("ccms", "nodes") for n in NODES)


def run_playbook(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """ansible-playbook on the lab without asserting success (labkit's playbook asserts)."""
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(PLAN.inventory),
           str(REPO / "ansible/site.yml"), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=venv_env(), cwd=REPO)
    print(proc.stdout[-15000:], proc.stderr[-3000:], sep="\n")
    return proc


def recap(proc: subprocess.CompletedProcess) -> dict[str, dict[str, int]]:
    out = {}
    for m in re.finditer(r"^(\S+)\s*: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+"
                         r"failed=(\d+)", proc.stdout, re.M):
        out[m.group(1)] = {"ok": int(m.group(2)), "changed": int(m.group(3)),
                           "unreachable": int(m.group(4)), "failed": int(m.group(5))}
    return out


LB_CONFIG = ("-l", "loadbalancer", "--tags", "haproxy-config")


def converge_lb(*extra: str) -> None:
    proc = run_playbook(*LB_CONFIG, *extra)
    assert proc.returncode == 0, proc.stdout[-3000:]


def master_and_worker(lab: Lab) -> tuple[str, list[str], str]:
    """(master pid, worker pids, the master's reload/failed column) from `show proc`."""
    text = lb_cli(lab, "show proc", MASTER)
    master = re.search(r"^(\d+)\s+master\s+(.*?)\s{2,}", text, re.M)
    workers = re.findall(r"^(\d+)\s+worker\s", text, re.M)
    assert master, text
    return master.group(1), workers, master.group(2)


@pytest.fixture(scope="module")
def deployed(site: Lab) -> Lab:
    """The converged lab with both nodes UP behind the balancer.

    Converges again first (idempotent) unless molecule has just converged: other modules
    of the session may have changed the hosts (tests/lab/test_deb_package.py reinstalls
    and purges ccmgr on ccm2).
    """
    if os.environ.get("LAB_SITE_CONVERGED") != "1":
        proc = run_playbook()
        assert proc.returncode == 0, proc.stdout[-3000:]
    assert poll(lambda: all_up(site), 30), show_stat(site)
    return site


# ------------------------------------------------- 1. strict validation keeps the old config


def test_bad_config_fails_the_play_and_keeps_the_running_config(deployed):
    lab = deployed
    before = lab.ssh(active(lab), "sha256sum /etc/haproxy/haproxy.cfg").stdout.split()[0]
    master_before, _, _ = master_and_worker(lab)
    try:
        # A time with a unit HAProxy does not know: the fragment renders, the check fails.
        proc = run_playbook(*LB_CONFIG, "-e", "haproxy_timeout_client=30parsecs")
        assert proc.returncode != 0
        assert "failed to validate" in proc.stdout
        after = lab.ssh(active(lab), "sha256sum /etc/haproxy/haproxy.cfg").stdout.split()[0]
        assert after == before, "haproxy.cfg changed although validation failed"
        assert master_and_worker(lab)[0] == master_before
        assert https().status == 200, "the old worker no longer serves"
    finally:
        converge_lb()  # the bad fragment is still in conf.d: render the good one again
    assert lab.ssh(active(lab), "sha256sum /etc/haproxy/haproxy.cfg").stdout.split()[0] == before


def test_warnings_count_as_errors_in_the_validation(deployed):
    """`-dW`: the assemble task's validate command must treat warnings as fatal."""
    text = (REPO / "roles/haproxy/tasks/config.yml").read_text()
    assert re.search(r"validate: .*/usr/sbin/haproxy -dW -c -f %s$", text, re.M)
    # And the deployed file passes the same strict check on the balancer (with the live
    # server states left out: they are runtime data, see roles/haproxy/templates/00-base).
    deployed.ssh(active(deployed), "HAPROXY_SERVER_STATE_FILE=/etc/haproxy/server-state.empty "
                       "haproxy -dW -c -f /etc/haproxy/haproxy.cfg")


# -------------------------------------------------- 2. reload under bounded load drops nothing


def test_reload_under_load_drops_no_request(deployed):
    lab = deployed
    master_before, workers_before, _ = master_and_worker(lab)
    results: list[object] = []
    stop = threading.Event()
    max_requests, max_seconds = 2000, 60

    def load() -> None:
        deadline = time.monotonic() + max_seconds
        while not stop.is_set() and len(results) < max_requests and time.monotonic() < deadline:
            try:
                results.append(https(timeout=10).status)
            except (OSError, http.client.HTTPException) as exc:
                results.append(repr(exc))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        # Any config change reloads: one more connection allowed per server.
        converge_lb("-e", "haproxy_server_maxconn=511")
        reloaded = poll(lambda: master_and_worker(lab)[1] != workers_before, 10)
        time.sleep(1)  # keep the load running past the switch of workers
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=max_seconds + 15)
    try:
        assert reloaded, "the worker did not change: no reload happened"
        master_after, _, reloads = master_and_worker(lab)
        assert master_after == master_before, "the master changed: HAProxy was restarted"
        assert "failed: 0" in reloads, reloads
        bad = [r for r in results if r != 200]
        print(f"{len(results)} requests during the reload, {len(bad)} not 200")
        assert len(results) >= 50, "too little load to say anything"
        assert bad == []
    finally:
        converge_lb()


# ------------------------------------------------------------------------- 3. TLS policy


def s_client(*args: str) -> subprocess.CompletedProcess:
    cmd = ["openssl", "s_client", "-connect", f"{LB}:443", "-servername", "ccm.lab.test",
           "-CAfile", str(ca_file()), "-verify_return_error", *args]
    return subprocess.run(cmd, input="", capture_output=True, text=True, timeout=20)


def test_tls_1_1_is_refused(deployed):
    # SECLEVEL=0 lets our client offer TLS 1.1, so a failure is the server's refusal.
    proc = s_client("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert proc.returncode != 0
    assert "New, (NONE), Cipher is (NONE)" in proc.stdout  # no session was negotiated
    assert "alert protocol version" in proc.stderr  # the server refused the version


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_tls_1_2_and_1_3_are_accepted_with_a_verified_chain(deployed, version):
    proc = s_client(version, "-verify_hostname", "ccm.lab.test")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Verify return code: 0 (ok)" in proc.stdout


PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----\n[A-Za-z0-9+/=\n]+?-----END \1-----\n")


def test_served_chain_is_the_deployed_pem_in_order(deployed):
    lab = deployed
    pem = lab.ssh(active(lab), "cat /etc/haproxy/mgmtserver.pem").stdout
    blocks = PEM_BLOCK.findall(pem)
    # leaf (then any chain), key last; every block ends in a newline (the regex needs it).
    assert blocks[0] == "CERTIFICATE" and blocks[-1].endswith("PRIVATE KEY"), blocks
    assert "".join(m.group(0) for m in PEM_BLOCK.finditer(pem)) == pem
    proc = s_client("-tls1_2", "-showcerts")
    served_certs = re.findall(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n",
                              proc.stdout, re.S)
    deployed_certs = re.findall(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n",
                                pem, re.S)
    assert served_certs == deployed_certs
    ca = lab.ssh(active(lab), "cat /etc/haproxy/ca.pem").stdout
    assert "PRIVATE KEY" not in ca and PEM_BLOCK.findall(ca) == ["CERTIFICATE"]


def test_pem_files_are_0640_root_haproxy(deployed):
    host = deployed.host(active(deployed))
    for path in ("/etc/haproxy/mgmtserver.pem", "/etc/haproxy/ca.pem"):
        f = host.file(path)
        assert (f.user, f.group, f.mode) == ("root", "haproxy", 0o640), path


def test_port_80_redirects_to_https(deployed):
    conn = http.client.HTTPConnection(LB, 80, timeout=5)
    conn.request("GET", "/proxy/controllers/status?x=1")
    resp = conn.getresponse()
    assert resp.status == 301
    assert resp.getheader("Location") == f"https://{LB}/proxy/controllers/status?x=1"
    conn.close()


def test_hsts_is_on_app_replies_and_on_haproxys_own_503(deployed):
    lab = deployed
    assert "max-age=63072000" in https().header("Strict-Transport-Security")
    try:
        for node in NODES:
            lb_cli(lab, f"set server ccms/{node} state maint")
        reply = https()
        assert reply.status == 503
        assert reply.header("Strict-Transport-Security") == "max-age=63072000"
    finally:
        for node in NODES:
            lb_cli(lab, f"set server ccms/{node} state ready")
    assert poll(lambda: all_up(lab), 15)


# ---------------------------------------------------------- 4. sticky insert and preserve


def test_first_reply_inserts_a_secure_httponly_cookie(deployed):
    reply = https()
    cookie = next(v for v in reply.all("Set-Cookie") if v.startswith("SVR="))
    attrs = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "secure"} <= attrs, cookie
    assert reply.svr() == reply.node  # the cookie value is the node's server name


def test_twenty_requests_with_the_cookie_reach_one_node(deployed):
    first = https()
    node = first.svr()
    seen = {https(cookie=node).node for _ in range(20)}
    assert seen == {node}


def test_cookie_less_clients_are_spread_over_both_nodes(deployed):
    seen = {https().node for _ in range(10)}
    assert seen == set(NODES)


def test_cacheable_reply_with_an_inserted_cookie_is_made_private(deployed):
    """nocache: a cacheable answer (ETag, max-age) that carries SVR gets Cache-Control private."""
    lab = deployed
    for node in NODES:
        lab.ssh(node, "install -d -m 0755 /app && echo probe > /app/nocache-probe.txt "
                      "&& chmod 0644 /app/nocache-probe.txt")
    try:
        reply = https("/nocache-probe.txt")
        assert reply.status == 200 and reply.header("ETag")
        assert reply.svr() is not None
        assert "private" in ", ".join(reply.all("Cache-Control")).lower()
    finally:
        for node in NODES:
            lab.ssh(node, "rm -f /app/nocache-probe.txt; rmdir /app 2>/dev/null || true")


def test_cookie_mode_is_insert_preserve_nocache(deployed):
    """preserve: needs an app endpoint that expires SVR to test on the wire (none yet),
    so the deployed directive is checked; HAProxy 2.6's handling was verified in
    reference/ha-anchors.md §3.1."""
    cfg = deployed.ssh(active(deployed), "cat /etc/haproxy/haproxy.cfg").stdout
    assert re.search(r"^\s+cookie SVR insert preserve nocache httponly secure$", cfg, re.M)


# ------------------------------------------------------- 5. failover of a sticky session


def test_sticky_client_fails_over_when_its_node_dies_and_rebalances_after(deployed):
    lab = deployed
    node = https().svr()
    other = next(n for n in NODES if n != node)
    lab.ssh(node, "systemctl stop ccmgr")
    try:
        reply = https(cookie=node)  # before the checks have noticed
        assert reply.status == 200
        assert reply.node == other
        assert reply.svr() == other, "the cookie was not rewritten"
    finally:
        lab.ssh(node, "systemctl start ccmgr")
    assert poll(lambda: all_up(lab), 30), show_stat(lab)
    # After rise (and slowstart), new cookie-less clients reach both nodes again.
    assert poll(lambda: {https().node for _ in range(10)} == set(NODES), 30)


# ----------------------------------------------------------------- 6. real health checks


def test_health_checks_are_layer_7_and_verified(deployed):
    stat = show_stat(deployed)
    for backend in ("ccms", "nodes"):
        for node in NODES:
            # "* L7OK": a check is running right now; the last result follows the star.
            assert stat[(backend, node)]["check_status"].lstrip("* ") == "L7OK", (backend, node)
    cfg = re.sub(r"#.*", "", deployed.ssh(active(deployed), "cat /etc/haproxy/haproxy.cfg").stdout)
    assert "ssl-hello-chk" not in cfg
    assert "verify none" not in cfg
    assert len(re.findall(r"^\s+server .* verify required ca-file /etc/haproxy/ca.pem "
                          r"verifyhost ", cfg, re.M)) == 2 * len(NODES)


def test_a_node_whose_health_fails_goes_down_within_fall_times_inter(deployed):
    lab = deployed
    node = NODES[-1]
    lab.ssh(node, "systemctl stop ccmgr")
    stopped = time.monotonic()
    try:
        def down() -> bool:
            stat = show_stat(lab)
            return all(stat[(be, node)]["status"].startswith("DOWN") for be in ("ccms", "nodes"))

        assert poll(down, CHECK_FALL * CHECK_INTER_S + 5, 0.1)
        took = time.monotonic() - stopped
        print(f"{node} DOWN {took:.1f}s after its service stopped")
        assert took <= CHECK_FALL * CHECK_INTER_S + 1
        assert {https().node for _ in range(6)} == set(NODES) - {node}
    finally:
        lab.ssh(node, "systemctl start ccmgr")
    assert poll(lambda: all_up(lab), 30), show_stat(lab)


# --------------------------------------------------------------------- 7. stats page


def stats_secret(name: str) -> str:
    return (PLAN.paths.state / "secrets" / f"haproxy-stats-{name}-password").read_text().strip()


def stats_curl(lab: Lab, *args: str) -> str:
    """curl on the balancer against the stats page; prints the status code last."""
    quoted = " ".join(f"'{a}'" for a in args)
    return lab.ssh(active(lab), f"curl -s -o /dev/null -w '%{{http_code}}' {quoted} "
                         "http://127.0.0.1:9000/haproxy_stats").stdout.strip()


def test_stats_page_is_not_reachable_on_the_public_address(deployed):
    with pytest.raises(OSError):
        socket.create_connection((LB, 9000), timeout=3).close()
    listening = deployed.ssh(active(deployed), "ss -Hltn 'sport = :9000'").stdout
    assert "127.0.0.1:9000" in listening and "0.0.0.0:9000" not in listening


def test_stats_page_needs_the_right_credentials(deployed):
    lab = deployed
    assert stats_curl(lab) == "401"
    assert stats_curl(lab, "-u", "admin:wrong-password") == "401"
    assert stats_curl(lab, "-u", f"monitor:{stats_secret('monitor')}") == "200"
    assert stats_curl(lab, "-u", f"admin:{stats_secret('admin')}") == "200"


def test_stats_config_holds_no_clear_text_password(deployed):
    cfg = deployed.ssh(active(deployed), "cat /etc/haproxy/haproxy.cfg").stdout
    for name in ("admin", "monitor"):
        assert stats_secret(name) not in cfg
        assert re.search(rf"^\s+user {name} password \$6\$", cfg, re.M)
    assert "stats auth" not in cfg and "insecure-password" not in cfg


def test_read_only_user_cannot_change_state_and_admin_can_drain(deployed):
    lab = deployed
    iid = show_stat(lab)[("ccms", "BACKEND")]["iid"]
    node = NODES[0]
    form = f"s={node}&action=maint&b=%23{iid}"
    try:
        stats_curl(lab, "-u", f"monitor:{stats_secret('monitor')}", "-d", form)
        assert show_stat(lab)[("ccms", node)]["status"] == "UP"
        code = stats_curl(lab, "-u", f"admin:{stats_secret('admin')}", "-d",
                          f"s={node}&action=drain&b=%23{iid}")
        assert code == "303"
        assert show_stat(lab)[("ccms", node)]["status"] == "DRAIN"
    finally:
        lb_cli(lab, f"set server ccms/{node} state ready")
    assert poll(lambda: all_up(lab), 15)


# ---------------------------------------------------------- 8. drain and ready via socket


def test_drain_over_the_socket_keeps_sticky_clients_and_ready_restores(deployed):
    lab = deployed
    node, other = NODES[0], NODES[1]
    lb_cli(lab, f"set server ccms/{node} state drain")
    try:
        assert show_stat(lab)[("ccms", node)]["status"] == "DRAIN"
        assert {https().node for _ in range(8)} == {other}
        assert {https(cookie=node).node for _ in range(4)} == {node}
    finally:
        lb_cli(lab, f"set server ccms/{node} state ready")
    assert show_stat(lab)[("ccms", node)]["status"] == "UP"
    assert poll(lambda: {https().node for _ in range(8)} == set(NODES), 15)


def test_drain_survives_a_reload(deployed):
    """The systemd drop-in dumps server states before each reload (server-state-file)."""
    lab = deployed
    node = NODES[0]
    lb_cli(lab, f"set server ccms/{node} state drain")
    try:
        lab.ssh(active(lab), "systemctl reload haproxy")
        assert poll(lambda: show_stat(lab)[("ccms", node)]["status"] == "DRAIN", 10)
    finally:
        lb_cli(lab, f"set server ccms/{node} state ready")
        lab.ssh(active(lab), "systemctl reload haproxy")
    assert poll(lambda: all_up(lab), 15)


# ------------------------------------------------------------------------ 9. config sync


def node_health(lab: Lab, node: str) -> dict:
    out = lab.ssh(node, f"curl -sS --cacert /var/lib/ccmgr/tls/ca.pem https://{node}:19051/health")
    return json.loads(out.stdout)


def test_config_edit_on_the_primary_reaches_the_secondaries(deployed):
    lab = deployed
    name = f"sync{int(time.time())}"
    lab.ssh(PRIMARY, f"echo 'Sync-test-pw-{name}' | runuser -u ccmgr -- ccmgradm adduser "
                     f"--password-stdin -e {name}@lab.test {name}")
    try:
        def synced() -> bool:
            states = [node_health(lab, n) for n in NODES]
            return len({(s["generation"], s["sha256"]) for s in states}) == 1 and states

        states = poll(synced, 15, 0.5)
        assert states, [node_health(lab, n) for n in NODES]
    finally:
        lab.ssh(PRIMARY, f"runuser -u ccmgr -- ccmgradm dropuser {name}", check=False)


def replication_ssh(lab: Lab, src: str, dst: str, command: str, *opts: str):
    return lab.ssh(src, "runuser -u ccmgr -- ssh -T -i /var/lib/ccmgr/.ssh/id_replication "
                        "-o BatchMode=yes -o UserKnownHostsFile=/var/lib/ccmgr/.ssh/known_hosts "
                        f"-o StrictHostKeyChecking=yes {' '.join(opts)} ccmgr@{dst} {command}",
                   check=False, timeout=30)


def test_replication_key_cannot_open_a_shell_or_read_files(deployed):
    lab = deployed
    src, dst = NODES[1], NODES[0]
    proc = replication_ssh(lab, src, dst, "'cat /etc/passwd'")
    assert "root:x:0:0" not in proc.stdout
    assert proc.returncode != 0
    proc = replication_ssh(lab, src, dst, "'echo shell-$((6*7))'")
    assert "shell-42" not in proc.stdout
    # No pty either (restrict): an interactive login gets no terminal and no shell.
    proc = lab.ssh(src, "runuser -u ccmgr -- ssh -tt -i /var/lib/ccmgr/.ssh/id_replication "
                        "-o BatchMode=yes -o UserKnownHostsFile=/var/lib/ccmgr/.ssh/known_hosts "
                        f"ccmgr@{dst} < /dev/null", check=False, timeout=30)
    assert "PTY allocation request failed" in proc.stderr or proc.returncode != 0


def test_replication_key_is_refused_from_another_address(deployed, tmp_path):
    lab = deployed
    src, dst = NODES[1], NODES[0]
    key = tmp_path / "id_replication"
    key.write_text(lab.ssh(src, "cat /var/lib/ccmgr/.ssh/id_replication").stdout)
    key.chmod(0o600)
    proc = subprocess.run(
        ["ssh", "-F", "/dev/null", "-T", "-i", str(key), "-o", "IdentitiesOnly=yes",
         "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={lab.known_hosts}",
         "-o", "StrictHostKeyChecking=yes", f"ccmgr@{lab.hosts[dst]}", "status"],
        capture_output=True, text=True, timeout=30)
    assert proc.returncode == 255 and "Permission denied" in proc.stderr, proc.stderr


def test_replication_files_are_pinned_and_private(deployed):
    lab = deployed
    for node in NODES:
        host = lab.host(node)
        ssh_dir = host.file("/var/lib/ccmgr/.ssh")
        assert (ssh_dir.user, ssh_dir.mode) == ("ccmgr", 0o700)
        key = host.file("/var/lib/ccmgr/.ssh/id_replication")
        assert (key.user, key.group, key.mode) == ("ccmgr", "ccmgr", 0o600)
        peers = [p for p in NODES if p != node]
        lines = [line for line in host.file("/var/lib/ccmgr/.ssh/authorized_keys")
                 .content_string.splitlines() if line and not line.startswith("#")]
        assert len(lines) == len(peers)
        by_sender = sorted(lines, key=lambda s: s.split("@")[-1])
        for peer, line in zip(sorted(peers), by_sender, strict=True):
            assert line.startswith(f'restrict,from="{lab.hosts[peer]}",command="/usr/bin/ccmgradm '
                                   f'ha receive --from {peer}" ssh-ed25519 ')
            assert line.endswith(f"ccmgr-replication@{peer}")
        known = host.file("/var/lib/ccmgr/.ssh/known_hosts").content_string
        for peer in peers:
            hostkey = lab.ssh(peer, "cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub").stdout
            assert f"{peer},{lab.hosts[peer]} {hostkey.strip()}" in known
        assert host.user("ccmgr").shell == "/bin/sh"
        assert host.check_output("passwd -S ccmgr").split()[1] == "L"


# ----------------------------------------------------------- certificate rotation (pki)


def served_serial(lab: Lab, node: str) -> str:
    return lab.ssh(node, f"openssl s_client -connect {node}:19051 -servername {node} "
                         "</dev/null 2>/dev/null | openssl x509 -noout -serial").stdout.strip()


def test_reissued_node_certificate_is_served_after_a_reload_not_a_restart(deployed):
    lab = deployed
    node = NODES[0]
    pid = lab.ssh(node, "systemctl show -p MainPID --value ccmgr").stdout.strip()
    serial = served_serial(lab, node)
    (PLAN.paths.state / "pki" / f"{node}.crt").unlink()  # the next run must reissue it
    proc = run_playbook("-l", node, "--tags", "pki-config,ccmgr-config")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert re.search(r"Reload ccmgr\]", proc.stdout), "the tls handler did not run"
    assert served_serial(lab, node) != serial
    assert lab.ssh(node, "systemctl show -p MainPID --value ccmgr").stdout.strip() == pid
    assert poll(lambda: all_up(lab), 30), show_stat(lab)


# --------------------------------------------------------------- 10. idempotence and removal


def test_second_converge_changes_nothing_and_check_mode_predicts_nothing(deployed):
    for args in ((), ("--check",)):
        proc = run_playbook(*args)
        assert proc.returncode == 0, proc.stdout[-3000:]
        totals = recap(proc)
        assert set(totals) == set(PLAN.hosts)
        changed = {h: t["changed"] for h, t in totals.items() if t["changed"]}
        assert changed == {}, f"{' '.join(args) or 'converge'} changed: {changed}"


def test_removing_a_frontend_removes_it_from_the_live_config(deployed):
    lab = deployed
    try:
        converge_lb("-e", "haproxy_tcp_enabled=false")
        # systemctl reload returns once the master has the signal; the new worker follows.
        assert poll(lambda: not any(px in ("httpsalt-in", "nodes")
                                        for px, _ in show_stat(lab)), 15), show_stat(lab)
        assert not lab.host(active(lab)).file("/etc/haproxy/conf.d/40-nodes.cfg").exists
    finally:
        converge_lb()
    assert poll(lambda: all_up(lab), 30), show_stat(lab)


def test_config_fingerprint_is_stable_across_converges(deployed):
    """A no-op converge leaves haproxy.cfg byte-identical (no reload, no rehash of users)."""
    lab = deployed
    digest = hashlib.sha256(lab.ssh(active(lab), "cat /etc/haproxy/haproxy.cfg").stdout.encode())
    converge_lb()
    again = hashlib.sha256(lab.ssh(active(lab), "cat /etc/haproxy/haproxy.cfg").stdout.encode())
    assert digest.hexdigest() == again.hexdigest()
