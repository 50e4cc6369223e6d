"""Fixtures shared by every test: a temporary basedir, the app around it, a real daemon."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import urllib3
from browserkit import CHROMIUM, CHROMIUM_ARGS, need
from ccmgr.app import create_app
from ccmgr.bootstrap import bootstrap
from ccmgr.runtime import Services
from daemonkit import Daemon, start_daemon, stop_daemon
from falcon import testing

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


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


@pytest.fixture
def daemon(basedir: Path) -> Iterator[Daemon]:
    d = start_daemon(basedir)
    try:
        yield d
    finally:
        stop_daemon(d)


@pytest.fixture(scope="session")
def playwright_api():
    """One Playwright session for the whole run: its sync API refuses a second one in the
    same thread, and the browser tests and the lab's dashboard test run in one pytest."""
    need(os.access(CHROMIUM, os.X_OK), "chromium is not installed (make host-deps)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    need(sync_playwright is not None, "playwright is not installed (make venv)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_api):
    b = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()
