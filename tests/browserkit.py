"""Browser-test helpers shared by tests/browser and the lab's dashboard test (a module with
a unique name: several conftest.py files would clash on import). The Playwright session
and the browser are session fixtures in tests/conftest.py: Playwright's sync API runs one
session per thread, so every test that drives Chromium must share it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS = REPO / "build" / "screenshots"
AXE = REPO / "app" / "ui" / "node_modules" / "axe-core" / "axe.min.js"
BUILT = REPO / "app" / "ccmgr" / "webui" / "index.html"
CONFIGURED = 3  # controllers in the daemon's config; the estate has one more


def need(ok: bool, why: str) -> None:
    """Skip when a browser-test tool is missing, but fail on CI (browser tests must run there)."""
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why} (browser tests must run on CI)")
        pytest.skip(why)


def login(page, site, password: str | None = None) -> None:
    """Log in as admin through the form (``site``: .url and .password)."""
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
    # The README's picture is refreshed on request only, so a test run leaves the tree clean.
    if name == "overview" and theme == "light" and os.environ.get("CCMGR_DOCS_SCREENSHOT") == "1":
        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, REPO / "docs" / "img" / "overview.png")
    return path
