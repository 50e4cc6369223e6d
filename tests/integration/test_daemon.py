"""The real daemon (ccmgr → gunicorn) on loopback with TLS, driven over HTTPS."""

import json
import os
import socket
import ssl
import stat
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from daemonkit import VENV_BIN, start_daemon, stop_daemon


def test_full_auth_flow_over_https(daemon):
    password = daemon.admin_password()
    s = daemon.session()
    login = s.post(f"{daemon.url}/proxy/auth/login",
                   data=json.dumps({"username": "admin", "password": password}))
    assert login.status_code == 200 and login.json()["request_status"] == "Ok"
    assert s.cookies.get("sid")
    first_sid = s.cookies.get("sid")
    assert s.post(f"{daemon.url}/proxy/auth/check", data="{}").json()["user"] == {
        "username": "admin", "role": "admin"}
    update = s.post(f"{daemon.url}/proxy/auth/update",
                    data=json.dumps({"user": {"username": "admin", "email": "a@b.c"}}))
    assert update.status_code == 200 and update.json()["user"]["email"] == "a@b.c"
    change = s.post(f"{daemon.url}/proxy/auth/setpassword",
                    data=json.dumps({"old_password": password, "new_password": "Second-pw1"}))
    assert change.status_code == 200
    assert s.cookies.get("sid") != first_sid  # a fresh session replaced the revoked one
    old = requests.post(f"{daemon.url}/proxy/auth/check", cookies={"sid": first_sid},
                        verify=daemon.ca)
    assert old.status_code == 401
    held = s.cookies.get("sid")
    assert s.post(f"{daemon.url}/proxy/auth/logout").status_code == 200
    revoked = requests.post(f"{daemon.url}/proxy/auth/check", cookies={"sid": held},
                            verify=daemon.ca)
    assert revoked.status_code == 401 and revoked.json()["request_status"] == "AuthRequired"
    relogin = requests.post(f"{daemon.url}/proxy/auth/login", verify=daemon.ca,
                            data=json.dumps({"username": "admin", "password": "Second-pw1"}))
    assert relogin.status_code == 200
    doc = yaml.safe_load((daemon.basedir / "ccmgr.yaml").read_text())
    assert doc["users"][0]["email"] == "a@b.c"


def test_files_are_private_and_log_has_no_secrets(daemon):
    password = daemon.admin_password()
    requests.post(f"{daemon.url}/proxy/auth/login", verify=daemon.ca,
                  data=json.dumps({"username": "admin", "password": password}))
    requests.post(f"{daemon.url}/proxy/auth/login", verify=daemon.ca,
                  data=json.dumps({"username": "admin", "password": "typo-" + password}))
    for name in ("ccmgr.yaml", "session.key", "server.key", "initial-admin-password"):
        assert stat.S_IMODE(os.stat(daemon.basedir / name).st_mode) == 0o600, name
    assert stat.S_IMODE(os.stat(daemon.basedir / "ccmgr.log").st_mode) == 0o640
    logs = (daemon.basedir / "ccmgr.log").read_text() + (daemon.basedir / "daemon.out").read_text()
    assert "Login attempt Ok 'admin'" in logs
    assert password not in logs
    assert "pbkdf2" not in logs


def _handshake(port: int, maximum: "ssl.TLSVersion") -> str:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer old versions at all
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.maximum_version = maximum
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock, \
            ctx.wrap_socket(sock) as tls:
        return tls.version()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_certificate_has_sans_and_server_refuses_tls_1_1(daemon):
    from cryptography import x509
    cert = x509.load_pem_x509_certificate((daemon.basedir / "server.crt").read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert _handshake(daemon.port, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    with pytest.raises(ssl.SSLError) as info:
        _handshake(daemon.port, ssl.TLSVersion.TLSv1_1)
    assert "PROTOCOL_VERSION" in str(info.value).upper()  # the server's alert, not ours


def test_sessions_survive_a_restart(basedir):
    first = start_daemon(basedir)
    try:
        s = first.session()
        s.post(f"{first.url}/proxy/auth/login", data=json.dumps(
            {"username": "admin", "password": first.admin_password()}))
    finally:
        stop_daemon(first)
    second = start_daemon(basedir)
    try:
        assert s.post(f"{second.url}/proxy/auth/check", data="{}").status_code == 200
    finally:
        stop_daemon(second)


def test_ccmgradm_change_reaches_the_running_daemon(daemon):
    env = {**os.environ, "CCMGR_BASEDIR": str(daemon.basedir)}
    done = subprocess.run([str(VENV_BIN / "ccmgradm"), "adduser", "carol", "--password-stdin"],
                          input="Carol-pw9\n", capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "Config reloaded successfully" in done.stdout
    login = requests.post(f"{daemon.url}/proxy/auth/login", verify=daemon.ca,
                          data=json.dumps({"username": "carol", "password": "Carol-pw9"}))
    assert login.status_code == 200
    assert "Carol-pw9" not in (daemon.basedir / "ccmgr.log").read_text()


def test_invalid_config_refuses_to_start_and_is_kept(basedir):
    text = "port: 19051\ninstances:\n  - name: no-url\n"
    (basedir / "ccmgr.yaml").write_text(text)
    done = subprocess.run([str(VENV_BIN / "ccmgr"), "--basedir", str(basedir)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "instances[0].url" in done.stderr
    assert "Traceback" not in done.stderr
    assert (basedir / "ccmgr.yaml").read_text() == text
    assert not any(p.name.startswith("ccmgr.yaml.bak") for p in basedir.iterdir())


def test_plain_gunicorn_entry_point_works(basedir):
    from daemonkit import free_port
    port = free_port()
    env = {**os.environ, "CCMGR_BASEDIR": str(basedir)}
    proc = subprocess.Popen([str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                             "--no-control-socket", "ccmgr.wsgi:app"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import time
        for _ in range(100):
            try:
                reply = requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert reply.status_code == 200 and reply.json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_gunicorn_config_passes_check_config(basedir):
    env = {**os.environ, "CCMGR_BASEDIR": str(basedir)}
    import ccmgr
    conf = str(Path(ccmgr.__file__).parent / "gunicorn_conf.py")
    done = subprocess.run([str(VENV_BIN / "gunicorn"), "--check-config", "-c",
                           conf, "ccmgr.app:get_app()"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def test_reload_applies_a_changed_port(basedir):
    """systemctl reload = HUP: gunicorn re-reads its config file, so a new port applies."""
    import signal
    import time

    from daemonkit import free_port
    daemon = start_daemon(basedir)
    try:
        new_port = free_port()
        doc = yaml.safe_load((basedir / "ccmgr.yaml").read_text())
        doc["port"] = new_port
        (basedir / "ccmgr.yaml").write_text(yaml.safe_dump(doc))
        os.kill(daemon.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                reply = requests.get(f"https://127.0.0.1:{new_port}/health", verify=daemon.ca,
                                     timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        assert reply.status_code == 200
        assert daemon.process.poll() is None  # same arbiter: a reload, not a restart
    finally:
        stop_daemon(daemon)
