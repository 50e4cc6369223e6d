"""Helpers for the simulator's contract tests: a plain `requests` client per controller.

The `cmon_estate` fixture itself comes from the cmonsim pytest plugin (entry point).
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
import requests

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Unverified HTTPS is the point here: controllers use self-signed certificates.
    quiet = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(quiet)

TIMEOUT = (3.05, 10)

ENVELOPE_ALWAYS = ("request_status", "controller_id", "request_processed")


class Client:
    """What any cmon client does: POST JSON to https://host:port[/prefix]/v2/<module>."""

    def __init__(self, ctl: Any) -> None:
        self.ctl = ctl
        self.session = requests.Session()
        self.session.verify = False  # controllers present self-signed certificates
        self.session.trust_env = False  # no proxies or CA bundles from the environment

    def post(self, module: str, body: Any = None, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        if body is not None and "data" not in kwargs:
            kwargs["json"] = body
        return self.session.post(self.ctl.rpc_url(module), **kwargs)

    def call(self, module: str, operation: str, **fields: Any) -> dict[str, Any]:
        resp = self.post(module, {"operation": operation, **fields})
        return resp.json()

    def login(self, user: str | None = None, password: str | None = None,
              **extra: Any) -> requests.Response:
        return self.post("auth", {"operation": "authenticateWithPassword",
                                  "user_name": user or self.ctl.username,
                                  "password": password or self.ctl.password, **extra})

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def client_for():
    clients: list[Client] = []

    def make(ctl: Any, login: bool = True) -> Client:
        c = Client(ctl)
        clients.append(c)
        if login:
            assert c.login().json()["request_status"] == "Ok"
        return c

    yield make
    for c in clients:
        c.close()


def raw_exchange(ctl: Any, payload: bytes, reads_until_close: bool = True,
                 timeout: float = 5.0) -> bytes:
    """Send raw bytes over TLS and return everything read until the server closes
    (or `timeout`); for HTTP framing tests a `requests` client would hide."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((ctl.host, ctl.port), timeout=timeout) as raw, \
            ctx.wrap_socket(raw) as tls:
        tls.sendall(payload)
        chunks = []
        for _ in range(1000):
            try:
                data = tls.recv(65536)
            except (TimeoutError, ssl.SSLError, ConnectionError):
                break
            if not data:
                break
            chunks.append(data)
            if not reads_until_close:
                break
        return b"".join(chunks)
