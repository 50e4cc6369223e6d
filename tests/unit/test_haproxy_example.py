"""haproxy/haproxy.cfg, the standalone example: it is the haproxy role's render (make
haproxy-example), HAProxy itself accepts it with warnings as errors, and it keeps the
security choices the role makes (reference/ha-anchors.md §3)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from testkit import role_module

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "haproxy" / "haproxy.cfg"
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists()
                                      else None)
needs_haproxy = pytest.mark.skipif(HAPROXY is None,
                                   reason="haproxy is not installed (make host-deps)")


def render(tmp: Path, *extra: str) -> str:
    """The role's render as `make haproxy-example` makes it (haproxy/render.yml)."""
    out = tmp / "rendered.cfg"
    bin_dir = Path(sys.executable).parent
    proc = subprocess.run(
        [str(bin_dir / "ansible-playbook"), "-i", "lb1,", "haproxy/render.yml",
         "-e", f"render_output={out}", *extra], cwd=REPO, capture_output=True, text=True,
        timeout=120, env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible/ansible.cfg"),
                          "ANSIBLE_NOCOLOR": "1", "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return out.read_text()


@pytest.mark.slow
def test_example_is_the_roles_render(tmp_path):
    """haproxy/haproxy.cfg claims to be what roles/haproxy renders: it is, byte for byte."""
    assert EXAMPLE.read_text() == render(tmp_path), "stale: run `make haproxy-example`"


def section(text: str, name: str) -> list[str]:
    m = re.search(rf"^{re.escape(name)}\n(.*?)(?=^\S|\Z)", text, re.S | re.M)
    assert m, name
    return [ln.strip() for ln in m.group(1).splitlines()
            if ln.strip() and not ln.strip().startswith("#")]


def test_idle_clients_are_bounded_by_haproxy_timeouts():
    """Issue 18: a client that sends no complete request head within a few seconds, or
    idles on keep-alive, is closed by the balancer (the defaults the role renders)."""
    defaults = section(EXAMPLE.read_text(), "defaults")
    assert "timeout http-request 5s" in defaults
    assert "timeout http-keep-alive 10s" in defaults
    assert "timeout client 20s" in defaults
    # No frontend puts a longer value back.
    for name in ("frontend https-in", "frontend http-in", "frontend httpsalt-in"):
        assert not [d for d in section(EXAMPLE.read_text(), name) if d.startswith("timeout")]


@pytest.mark.slow
def test_haproxy_timeouts_are_overridable(tmp_path):
    text = render(tmp_path, "-e", "haproxy_timeout_http_request=3s",
                  "-e", "haproxy_timeout_http_keep_alive=2s", "-e", "haproxy_timeout_client=9s")
    defaults = section(text, "defaults")
    assert {"timeout http-request 3s", "timeout http-keep-alive 2s",
            "timeout client 9s"} <= set(defaults)


def materials(tmp: Path) -> dict[str, Path]:
    """A CA, a balancer pem (leaf + key) and a CA file, as the pki role makes them."""
    pki = role_module("pki", "ccmgr_pki")
    pki.make_ca(str(tmp / "ca.key"), str(tmp / "ca.crt"), "test CA", 30)
    ca_key, ca_cert = pki.load_key(str(tmp / "ca.key")), pki.load_cert(str(tmp / "ca.crt"))
    pki.make_cert(str(tmp / "lb.key"), str(tmp / "lb.crt"), ca_key, ca_cert, "lb",
                  ["lb", "127.0.0.1"], 30)
    pem = tmp / "mgmtserver.pem"
    pem.write_text((tmp / "lb.crt").read_text() + (tmp / "lb.key").read_text())
    state = tmp / "server-state"
    state.write_text("1\n")
    return {"pem": pem, "ca": tmp / "ca.crt", "state": state}


def localised(text: str, files: dict[str, Path]) -> str:
    return (text.replace("/etc/haproxy/mgmtserver.pem", str(files["pem"]))
                .replace("/etc/haproxy/ca.pem", str(files["ca"]))
                .replace("/var/lib/haproxy/server-state", str(files["state"])))


@needs_haproxy
def test_example_passes_haproxy_check_with_warnings_as_errors(tmp_path):
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(localised(EXAMPLE.read_text(), materials(tmp_path)))
    proc = subprocess.run([HAPROXY, "-dW", "-c", "-f", str(cfg)], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_haproxy
def test_a_broken_example_is_refused(tmp_path):
    """The check the role relies on really fails: an unknown time unit is an error."""
    text = localised(EXAMPLE.read_text(), materials(tmp_path))
    cfg = tmp_path / "haproxy.cfg"
    assert "timeout http-request 5s" in text
    cfg.write_text(text.replace("timeout http-request 5s", "timeout http-request 5parsecs"))
    proc = subprocess.run([HAPROXY, "-dW", "-c", "-f", str(cfg)], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode != 0


def directives(section: str) -> list[str]:
    text = EXAMPLE.read_text()
    m = re.search(rf"^{re.escape(section)}\n(.*?)(?=^\S|\Z)", text, re.S | re.M)
    assert m, section
    return [line.strip() for line in m.group(1).splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_sticky_cookie_redispatch_and_roundrobin_as_the_seed():
    backend = directives("backend ccms")
    assert "balance roundrobin" in backend
    assert "cookie SVR insert preserve nocache httponly secure" in backend
    assert "option redispatch" in backend
    assert any(d.startswith("retries ") for d in backend)


def test_backends_are_checked_at_layer_7_over_verified_tls():
    for section in ("backend ccms", "backend nodes"):
        lines = directives(section)
        assert "option httpchk" in lines
        assert "http-check expect status 200" in lines
        servers = [d for d in lines if d.startswith("server ")]
        assert servers and all("verify required ca-file /etc/haproxy/ca.pem verifyhost" in s
                               for s in servers)
    text = EXAMPLE.read_text()
    assert "verify none" not in re.sub(r"#.*", "", text)
    assert "option ssl-hello-chk" not in re.sub(r"#.*", "", text)


def test_tls_frontend_headers_and_redirect():
    https_in = directives("frontend https-in")
    assert any(re.match(r"bind \*:443 ssl crt /etc/haproxy/mgmtserver.pem ca-file "
                        r"/etc/haproxy/ca.pem", d) for d in https_in)
    assert "option forwardfor" in https_in
    assert "http-request set-header X-Forwarded-Proto https" in https_in
    assert any(d.startswith("http-after-response set-header Strict-Transport-Security")
               for d in https_in)
    assert "http-request redirect scheme https code 301 unless { ssl_fc }" in directives(
        "frontend http-in")
    assert "ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets" in directives("global")


def test_stats_page_is_local_hashed_and_admin_only_for_the_admin_group():
    stats = directives("listen stats")
    assert "bind 127.0.0.1:9000" in stats
    assert "stats uri /haproxy_stats" in stats
    assert "stats admin if { http_auth_group(stats_users) admin }" in stats
    assert not any(d.startswith("stats auth") for d in stats)
    users = [d for d in directives("userlist stats_users") if d.startswith("user ")]
    assert users and all(" password $6$" in u for u in users)
    assert "stats socket /run/haproxy/admin.sock mode 660 level admin" in directives("global")
