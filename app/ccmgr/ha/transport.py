"""SSH to a peer with the dedicated replication key: pinned host keys, no agent, bounded.

The peer's authorized_keys entry forces ``ccmgradm ha receive``; the verb we ask for
(``push``, ``admin``, ``status``) arrives there as SSH_ORIGINAL_COMMAND, data on stdin.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass

from ccmgr.config.model import Peer

KEY_NAME = os.path.join(".ssh", "id_replication")
KNOWN_HOSTS_NAME = os.path.join(".ssh", "known_hosts")


class TransportError(Exception):
    pass


@dataclass
class Reply:
    code: int
    stdout: str
    stderr: str


class SshTransport:
    def __init__(self, basedir: str) -> None:
        self.key = os.path.join(basedir, KEY_NAME)
        self.known_hosts = os.path.join(basedir, KNOWN_HOSTS_NAME)

    def available(self) -> bool:
        return os.path.exists(self.key) and os.path.exists(self.known_hosts)

    def _control_path(self) -> list[str]:
        """One multiplexed connection per peer and user, kept 60 s: a push then costs one
        channel on an open connection instead of a new handshake. The socket lives in a
        private per-user directory (short path: sockets are limited to ~100 bytes)."""
        directory = os.path.join(tempfile.gettempdir(), f"ccmgr-ssh-{os.geteuid()}")
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            if os.stat(directory).st_uid != os.geteuid():
                return []  # somebody else's directory: no multiplexing
        except OSError:
            return []
        return ["-o", "ControlMaster=auto", "-o", f"ControlPath={directory}/%C",
                "-o", "ControlPersist=60"]

    def command(self, peer: Peer | dict, verb: str, connect_timeout: float = 3) -> list[str]:
        peer = Peer.parse(peer)
        return [
            "ssh", "-T", "-i", self.key, *self._control_path(),
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={self.known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", f"ConnectTimeout={max(1, int(connect_timeout))}",
            "-o", "ServerAliveInterval=2", "-o", "ServerAliveCountMax=2",
            "-F", "/dev/null",
            "-p", str(peer.ssh_port), f"{peer.ssh_user}@{peer.address}", verb,
        ]

    def call(self, peer: Peer | dict, verb: str, data: bytes, timeout: float) -> Reply:
        peer = Peer.parse(peer)
        if not self.available():
            raise TransportError(f"no replication key or known_hosts at {self.key}")
        try:
            done = subprocess.run(self.command(peer, verb, min(3.0, timeout)), input=data,
                                  capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise TransportError(f"no answer from {peer.name} within {timeout:.0f}s") from None
        except OSError as exc:
            raise TransportError(f"cannot run ssh: {exc.strerror}") from None
        stderr = done.stderr.decode(errors="replace").strip()
        if done.returncode == 255:  # ssh's own failure: connection, host key, auth
            raise TransportError(stderr.splitlines()[-1] if stderr else "ssh failed")
        return Reply(done.returncode, done.stdout.decode(errors="replace"), stderr)
