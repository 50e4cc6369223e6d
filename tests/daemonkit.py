"""Starting and stopping real ccmgr daemons for tests and benches (not a conftest, so its
name is unique: tests/conftest.py and tests/lab/conftest.py would otherwise clash)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

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
