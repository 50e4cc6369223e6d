"""A real ccmgr daemon, real cmonsim controllers and Debian's Chromium driven by Playwright.

The estate has one controller more than the daemon is configured with: the add-controller
test adds it through the form. Screenshots go to build/screenshots/ (the overview is
also copied to docs/img/overview.png with CCMGR_DOCS_SCREENSHOT=1). On CI (CI=true) a
missing browser fails instead of skipping.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from browserkit import AXE, BUILT, CONFIGURED, need
from ccmgr.xid import new_xid
from cmonsim.testing import SimEstate, start_estate
from daemonkit import Daemon, start_daemon, stop_daemon, write_config


@pytest.fixture(scope="session")
def ui_built() -> None:
    need(BUILT.is_file() and AXE.is_file(), "the UI is not built (make venv)")


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
def context(browser, ui_built, theme):
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
