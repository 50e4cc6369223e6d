"""A real ccmgr daemon, real cmonsim controllers and Debian's Chromium driven by Playwright.

The estate has one controller more than the daemon is configured with: the add-controller
test adds it through the form. Screenshots go to build/screenshots/ (the overview is
also copied to docs/img/overview.png with CCMGR_DOCS_SCREENSHOT=1). On CI (CI=true) a
missing browser fails instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from browserkit import AXE, BUILT, CHROMIUM, CHROMIUM_ARGS, CONFIGURED
from ccmgr.xid import new_xid
from cmonsim.testing import SimEstate, start_estate
from daemonkit import Daemon, start_daemon, stop_daemon, write_config


def _need(ok: bool, why: str) -> None:
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why} (browser tests must run on CI)")
        pytest.skip(why)


@pytest.fixture(scope="session")
def playwright_api():
    _need(os.access(CHROMIUM, os.X_OK), "chromium is not installed (make host-deps)")
    _need(BUILT.is_file() and AXE.is_file(), "the UI is not built (make venv)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    _need(sync_playwright is not None, "playwright is not installed (make venv)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_api):
    b = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@dataclass
class Site:
    daemon: Daemon
    estate: SimEstate
    password: str

    @property
    def url(self) -> str:
        return self.daemon.url


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[Site]:
    estate = start_estate(controllers=CONFIGURED + 1, clusters=5, hosts=3, seed=3)
    try:
        basedir = tmp_path_factory.mktemp("ui-basedir")
        basedir.chmod(0o750)
        instances = [{"xid": new_xid(), "url": c.url, "name": c.name, "username": c.username,
                      "password": c.password} for c in list(estate)[:CONFIGURED]]
        # One-second data: a stopped controller or a renamed cluster shows at the next refresh.
        write_config(basedir, {"instances": instances, "cache_ttl": 1})
        daemon = start_daemon(basedir)
        try:
            yield Site(daemon, estate, daemon.admin_password())
        finally:
            stop_daemon(daemon)
    finally:
        estate.stop()


@pytest.fixture
def theme() -> str:
    return "light"  # the page tour is parametrized over both themes


@pytest.fixture
def context(browser, theme):
    ctx = browser.new_context(ignore_https_errors=True, color_scheme=theme,
                              viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    p = context.new_page()
    p.csp_violations = []  # type: ignore[attr-defined]
    p.on("console", lambda m: "Content Security Policy" in m.text
         and p.csp_violations.append(m.text))  # type: ignore[attr-defined]
    yield p
    assert not p.csp_violations, p.csp_violations  # type: ignore[attr-defined]
