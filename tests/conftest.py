"""Fixtures shared by every test: a temporary basedir, the app around it, a real daemon."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import urllib3
import yaml
from ccmgr.app import create_app
from ccmgr.bootstrap import bootstrap
from ccmgr.runtime import Services
from falcon import testing

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(basedir: Path, doc: dict) -> Path:
    path = basedir / "ccmgr.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)
    return path


@pytest.fixture
def basedir(tmp_path: Path) -> Path:
    d = tmp_path / "basedir"
    d.mkdir(mode=0o750)
    return d


@dataclass
class AppHarness:
    services: Services
    client: testing.TestClient
    admin_password: str

    def login(self, username: str = "admin", password: str | None = None) -> str:
        reply = self.client.simulate_post("/proxy/auth/login", body=json.dumps(
            {"username": username, "password": password or self.admin_password}))
        assert reply.status_code == 200, reply.text
        return reply.cookies["sid"].value

    def post(self, path: str, body: object = None, sid: str | None = None,
             **kw: object) -> testing.Result:
        data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        return self.client.simulate_post(path, body=data,
                                         cookies={"sid": sid} if sid else None, **kw)


@pytest.fixture
def harness(basedir: Path) -> AppHarness:
    services = Services.from_basedir(str(basedir))
    password = bootstrap(services)
    assert password
    return AppHarness(services, testing.TestClient(create_app(services)), password)


@dataclass
class Daemon:
    basedir: Path
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def admin_password(self) -> str:
        return (self.basedir / "initial-admin-password").read_text().strip()

    @property
    def ca(self) -> str:
        """The daemon's own self-signed certificate, trusted as its CA: real verification."""
        return str(self.basedir / "server.crt")

    def session(self) -> requests.Session:
        s = requests.Session()
        s.trust_env = False  # REQUESTS_CA_BUNDLE would silently replace ``verify``
        s.verify = self.ca
        return s


def start_daemon(basedir: Path, *, env: dict | None = None, timeout: float = 30,
                 port: int | None = None) -> Daemon:
    port = port or free_port()
    config = basedir / "ccmgr.yaml"
    doc = yaml.safe_load(config.read_text()) if config.exists() else {}
    doc = doc or {}
    doc.update(port=port, bind_address="127.0.0.1", logfile=str(basedir / "ccmgr.log"))
    write_config(basedir, doc)
    log = open(basedir / "daemon.out", "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([str(VENV_BIN / "ccmgr"), "--basedir", str(basedir)],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env={**os.environ, **(env or {})}, start_new_session=True)
    daemon = Daemon(basedir, port, process)
    try:
        _wait_healthy(daemon, timeout)
    except BaseException:
        stop_daemon(daemon)  # never leave a daemon behind, whatever went wrong
        raise
    return daemon


def _wait_healthy(daemon: Daemon, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.process.poll() is not None:
            raise RuntimeError(f"ccmgr exited with {daemon.process.returncode}: "
                               f"{(daemon.basedir / 'daemon.out').read_text()[-2000:]}")
        try:
            if requests.get(f"{daemon.url}/health", verify=daemon.ca,
                            timeout=1).status_code == 200:
                return
        except (requests.RequestException, OSError):  # not listening, or no certificate yet
            time.sleep(0.1)
    raise RuntimeError("ccmgr did not answer /health in time")


def stop_daemon(daemon: Daemon) -> None:
    if daemon.process.poll() is None:
        daemon.process.terminate()
        try:
            daemon.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.process.pid, 9)
            daemon.process.wait(timeout=5)


@pytest.fixture
def daemon(basedir: Path) -> Iterator[Daemon]:
    d = start_daemon(basedir)
    try:
        yield d
    finally:
        stop_daemon(d)
