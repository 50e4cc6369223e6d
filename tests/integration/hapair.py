"""Two ccmgr nodes on loopback, replicating over real sshd with forced-command keys.

Each node gets its own basedir, daemon and sshd (as root, on a free 127.0.0.1 port). The
authorized_keys entries are exactly what the replication role installs on real hosts:
``restrict,from=...,command="ccmgradm ... ha receive --from <peer>"``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml
from daemonkit import VENV_BIN, Daemon, free_port, start_daemon, stop_daemon
from testkit import poll

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def sshd_available() -> str | None:
    if os.geteuid() != 0:
        return "needs root (sshd with root login for the forced command)"
    if not os.path.exists(SSHD):
        return "sshd is not installed (Debian package openssh-server)"
    return None


@dataclass
class Node:
    name: str
    root: Path
    https_port: int = field(default_factory=free_port)
    ssh_port: int = field(default_factory=free_port)
    daemon: Daemon | None = None
    sshd: subprocess.Popen | None = None

    @property
    def basedir(self) -> Path:
        return self.root / "basedir"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def ca(self) -> str:
        return str(self.basedir / "server.crt")

    def session(self) -> requests.Session:
        s = requests.Session()
        s.trust_env = False
        s.verify = self.ca
        return s

    def config(self) -> dict:
        return yaml.safe_load((self.basedir / "ccmgr.yaml").read_text())

    def health(self) -> dict:
        return self.session().get(f"{self.url}/health", timeout=5).json()

    def ccmgradm(self, *args: str, stdin: str = "", timeout: float = 120
                 ) -> subprocess.CompletedProcess:
        return subprocess.run([str(VENV_BIN / "ccmgradm"), "--basedir", str(self.basedir),
                               *args], input=stdin, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def receive(self, sender: str, verb: str, data: str) -> subprocess.CompletedProcess:
        """Run the forced command as sshd would (for crafted bundles)."""
        env = {**os.environ, "SSH_ORIGINAL_COMMAND": verb}
        return subprocess.run([str(VENV_BIN / "ccmgradm"), "--basedir", str(self.basedir),
                               "ha", "receive", "--from", sender], input=data, env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    # --- processes ---------------------------------------------------------------------
    def start_sshd(self) -> None:
        self.sshd = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.root / "sshd_config")],
                                     stdout=subprocess.DEVNULL, stderr=open(  # noqa: SIM115
                                         self.root / "sshd.log", "ab"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import socket
                with socket.create_connection(("127.0.0.1", self.ssh_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd for {self.name} did not listen")

    def stop_sshd(self) -> None:
        """Stop the listener and every connection it serves (a cut channel, as on a real
        partition; a multiplexed client connection would otherwise survive the listener)."""
        if self.sshd and self.sshd.poll() is None:
            children = _descendants(self.sshd.pid)
            self.sshd.terminate()
            self.sshd.wait(timeout=10)
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        self.sshd = None

    def start(self) -> None:
        self.daemon = start_daemon(self.basedir, port=self.https_port)

    def stop(self) -> None:
        if self.daemon:
            stop_daemon(self.daemon)
        self.daemon = None

    def kill9(self) -> None:
        assert self.daemon is not None
        os.killpg(self.daemon.process.pid, 9)
        self.daemon.process.wait(timeout=10)
        self.daemon = None


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _keygen(path: Path, comment: str) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f",
                    str(path)], check=True)
    path.chmod(0o600)
    return (path.with_suffix(".pub")).read_text().strip()


def build_pair(root: Path, *, replication_wait: int = 3) -> tuple[Node, Node]:
    a, b = Node("node-a", root / "a"), Node("node-b", root / "b")
    for node in (a, b):
        (node.basedir / ".ssh").mkdir(parents=True, mode=0o700)
        node.public_key = _keygen(node.basedir / ".ssh" / "id_replication",
                                  f"ccmgr-replication@{node.name}")
        node.host_key = _keygen(node.root / "ssh_host_ed25519_key", "host")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    for node, peer in ((a, b), (b, a)):
        forced = (f'restrict,from="127.0.0.1",command="{VENV_BIN}/ccmgradm --basedir '
                  f'{node.basedir} ha receive --from {peer.name}" {peer.public_key}')
        (node.root / "authorized_keys").write_text(forced + "\n")
        (node.root / "sshd_config").write_text("\n".join([
            f"ListenAddress 127.0.0.1:{node.ssh_port}",
            f"HostKey {node.root / 'ssh_host_ed25519_key'}",
            f"AuthorizedKeysFile {node.root / 'authorized_keys'}",
            f"PidFile {node.root / 'sshd.pid'}",
            "PermitRootLogin forced-commands-only", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
            "LogLevel ERROR", "AllowTcpForwarding no", "X11Forwarding no", ""]))
        host_key = node.host_key.split()
        (peer.basedir / ".ssh" / "known_hosts").write_text(
            f"[127.0.0.1]:{node.ssh_port} {host_key[0]} {host_key[1]}\n")
    for node, peer, role in ((a, b, "primary"), (b, a, "secondary")):
        doc = {"node_name": node.name, "role": role, "trusted_proxies": ["127.0.0.1"],
               "peer_ca_file": str(peer.ca), "replication_wait": replication_wait,
               "peers": [{"name": peer.name, "address": "127.0.0.1", "port": peer.https_port,
                          "ssh_port": peer.ssh_port, "ssh_user": "root"}]}
        (node.basedir / "ccmgr.yaml").write_text(yaml.safe_dump(doc))
        (node.basedir / "ccmgr.yaml").chmod(0o600)
    return a, b


def wait_for(check, timeout: float = 15, interval: float = 0.1):
    """``poll``, failing the test when the condition never held."""
    last = poll(check, timeout, interval)
    if not last:
        raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
    return last


def same_shared(a: Node, b: Node) -> bool:
    ha, hb = a.health(), b.health()
    return ha["generation"] == hb["generation"] and ha["sha256"] == hb["sha256"]


def login(node: Node, username: str, password: str) -> requests.Session:
    s = node.session()
    reply = s.post(f"{node.url}/proxy/auth/login", timeout=30,
                   data=json.dumps({"username": username, "password": password}))
    assert reply.status_code == 200, reply.text
    return s


@contextlib.contextmanager
def running(a: Node, b: Node) -> Iterator[tuple[Node, Node]]:
    """Both nodes' sshd and daemons started, the secondary in sync with the primary's first
    bundle; everything stopped afterwards, also when the test fails."""
    try:
        a.start_sshd()
        b.start_sshd()
        a.start()
        b.start()
        wait_for(lambda: same_shared(a, b))
        yield a, b
    finally:
        for node in (a, b):
            node.stop()
            node.stop_sshd()
