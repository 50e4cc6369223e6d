"""Where a node keeps its files, and the long-lived objects built from them.

Only ``Services.from_basedir`` touches the environment and disk; everything else gets
these objects handed in, so tests can build them around a temporary directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ccmgr.config import ConfigStore
from ccmgr.ratelimit import LoginLimiter
from ccmgr.sessions import Revocations, SecretFile, SessionManager

DEFAULT_BASEDIR = "/var/lib/ccmgr"
BASEDIR_ENV = "CCMGR_BASEDIR"
CONFIG_NAME = "ccmgr.yaml"
SECRET_NAME = "session.key"  # noqa: S105 - a file name
REVOCATIONS_NAME = "revocations.json"
LOGIN_FAILURES_NAME = "login-failures.json"
ADMIN_PASSWORD_NAME = "initial-admin-password"  # noqa: S105 - a file name


def basedir_from(explicit: str | None = None) -> str:
    return os.path.abspath(explicit or os.environ.get(BASEDIR_ENV) or DEFAULT_BASEDIR)


@dataclass
class Services:
    basedir: str
    store: ConfigStore
    secret: SecretFile
    sessions: SessionManager
    limiter: LoginLimiter = field(default_factory=LoginLimiter)

    @classmethod
    def from_basedir(cls, basedir: str) -> Services:
        store = ConfigStore(os.path.join(basedir, CONFIG_NAME))
        secret = SecretFile(os.path.join(basedir, SECRET_NAME))
        revocations = Revocations(os.path.join(basedir, REVOCATIONS_NAME))
        return cls(basedir=basedir, store=store, secret=secret,
                   sessions=SessionManager(secret, revocations),
                   limiter=LoginLimiter(os.path.join(basedir, LOGIN_FAILURES_NAME)))

    @property
    def admin_password_file(self) -> str:
        return os.path.join(self.basedir, ADMIN_PASSWORD_NAME)


def effective_port(port: int, env: dict | None = None) -> int:
    """``PORT`` overrides the configured port at run time (not written to the file)."""
    value = (env if env is not None else os.environ).get("PORT", "")
    return int(value) if value.isdigit() and 0 < int(value) < 65536 else port


def effective_tls(cert: str, key: str, env: dict | None = None) -> tuple[str, str]:
    env = env if env is not None else os.environ
    return env.get("TLS_CERTIFICATE_FILE") or cert, env.get("TLS_KEY_FILE") or key


FETCH_PROCESSES_ENV = "CCMGR_FETCH_PROCESSES"
MAX_FETCH_PROCESSES = 16


def fetch_processes(env: dict | None = None) -> int:
    """``CCMGR_FETCH_PROCESSES``: child processes of each worker that carry out its HTTP to
    the controllers (cmon.offload); 0 or unset: the worker does it itself. Raises
    ValueError with the reason for anything but 0..16."""
    value = (env if env is not None else os.environ).get(FETCH_PROCESSES_ENV, "").strip()
    if not value:
        return 0
    if not value.isdigit() or int(value) > MAX_FETCH_PROCESSES:
        raise ValueError(f"{FETCH_PROCESSES_ENV}={value!r}: expected a number of processes "
                         f"from 0 to {MAX_FETCH_PROCESSES}")
    return int(value)
