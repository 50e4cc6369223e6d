"""A real ccmgr daemon, real cmonsim controllers and Debian's Chromium driven by Playwright.

The estate has one controller more than the daemon is configured with: the add-controller
test adds it through the form. Screenshots go to build/screenshots/ (the overview is
also copied to docs/img/overview.png). On CI (CI=true) a missing browser fails instead
of skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ccmgr.xid import new_xid
from cmonsim.testing import SimEstate, start_estate
from daemonkit import Daemon, start_daemon, stop_daemon, write_config

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS = REPO / "build" / "screenshots"
AXE = REPO / "app" / "ui" / "node_modules" / "axe-core" / "axe.min.js"
BUILT = REPO / "app" / "ccmgr" / "webui" / "index.html"
CONFIGURED = 3  # controllers in the daemon's config; the estate has one more


def _need(ok: bool, why: str) -> None:
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why} (browser tests must run on CI)")
        pytest.skip(why)


@pytest.fixture(scope="session")
def playwright_api():
    _need(os.access(CHROMIUM, os.X_OK), "chromium is not installed (make host-deps)")
    _need(BUILT.is_file() and AXE.is_file(), "the UI is not built (make venv)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
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


def login(page, site: Site, password: str | None = None) -> None:
    page.goto(site.url + "/")
    page.fill("#l-user", "admin")
    page.fill("#l-pass", password or site.password)
    page.click("form button[type=submit]")
    page.wait_for_selector("main h2:text('Overview')")


def check_axe(page) -> None:
    """axe-core in the page (evaluated over CDP: the page's CSP still forbids inline code)."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.help} at ` +
                      v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
    }""")
    assert result == [], result


def screenshot(page, name: str, theme: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{theme}.png"
    page.screenshot(path=str(path), full_page=True)
    if name == "overview" and theme == "light":
        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, REPO / "docs" / "img" / "overview.png")
    return path
