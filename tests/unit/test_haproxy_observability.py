"""A real HAProxy from the role's templates on loopback (issue 14): the Prometheus exporter
answers on the management bind only, the public side refuses /metrics, and every request
reaches the node with HAProxy's X-Request-Id (a client's own is replaced)."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from daemonkit import free_port
from test_haproxy_example import HAPROXY, localised, materials, needs_haproxy, render
from testkit import poll, role_module

STATS_ADDR = "127.0.0.2"  # the management address; the public side binds 127.0.0.1


class _Echo(BaseHTTPRequestHandler):
    """The node stand-in: 200 with the request id it was given (and /health)."""

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path,
                           "ids": self.headers.get_all("X-Request-Id") or []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def balancer(tmp_path):
    files = materials(tmp_path)
    pki = role_module("pki", "ccmgr_pki")
    ca_key = pki.load_key(str(tmp_path / "ca.key"))
    ca_cert = pki.load_cert(str(tmp_path / "ca.crt"))
    pki.make_cert(str(tmp_path / "ccm1.key"), str(tmp_path / "ccm1.crt"), ca_key, ca_cert,
                  "ccm1", ["ccm1", "127.0.0.1"], 30)
    node_port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", node_port), _Echo)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tmp_path / "ccm1.crt"), str(tmp_path / "ccm1.key"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ports = {k: free_port() for k in ("https", "http", "tcp", "stats", "monitor")}
    extra = {"haproxy_public_bind": "127.0.0.1", "haproxy_https_port": ports["https"],
             "haproxy_http_port": ports["http"], "haproxy_tcp_port": ports["tcp"],
             "haproxy_stats_bind_address": STATS_ADDR, "haproxy_stats_port": ports["stats"],
             "haproxy_monitor_port": ports["monitor"], "haproxy_check_inter": "200ms",
             "haproxy_check_rise": 1,
             "haproxy_backend_servers": [{"name": "ccm1", "address": "127.0.0.1",
                                          "port": node_port}]}
    text = localised(render(tmp_path, "-e", json.dumps(extra)), files)
    text = text.replace("    chroot /var/lib/haproxy\n", "").replace("    daemon\n", "")
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text)
    proc = subprocess.Popen([HAPROXY, "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(files["ca"])
    base = f"https://127.0.0.1:{ports['https']}"

    def node_up() -> bool:
        try:
            return session.get(f"{base}/proxy/x", timeout=2).status_code == 200
        except requests.RequestException:
            return False
    try:
        assert poll(node_up, 15), proc.stderr.read1().decode() if proc.poll() else "no 200"
        yield session, base, ports
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        server.shutdown()
        server.server_close()


@needs_haproxy
@pytest.mark.slow
def test_exporter_on_the_management_bind_only_and_ids_reach_the_node(balancer):
    session, base, ports = balancer
    metrics = session.get(f"http://{STATS_ADDR}:{ports['stats']}/metrics", timeout=5)
    assert metrics.status_code == 200
    assert 'haproxy_server_status{proxy="ccms",server="ccm1",state="UP"} 1' in metrics.text
    assert "haproxy_frontend_http_requests_total" in metrics.text
    with pytest.raises(requests.ConnectionError):  # nothing on the public address's port
        session.get(f"http://127.0.0.1:{ports['stats']}/metrics", timeout=5)
    stats = session.get(f"http://{STATS_ADDR}:{ports['stats']}/haproxy_stats", timeout=5)
    assert stats.status_code == 401  # the stats page itself still wants its password
    for path in ("/metrics", "/metrics/", "/metrics/x"):
        refused = session.get(f"{base}{path}", timeout=5)
        assert refused.status_code == 403, path
    first = session.get(f"{base}/proxy/clusters/list", timeout=5).json()
    second = session.get(f"{base}/proxy/clusters/list", timeout=5,
                         headers={"X-Request-Id": "client-made"}).json()
    assert len(first["ids"]) == 1 and len(second["ids"]) == 1
    assert second["ids"] != ["client-made"]  # the balancer's id replaces the client's
    assert first["ids"] != second["ids"]
    from ccmgr.requestid import accept
    assert accept(first["ids"][0]) == first["ids"][0]  # a plain token the node keeps
