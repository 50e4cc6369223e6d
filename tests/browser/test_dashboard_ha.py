"""The appliance page and writes on an HA pair (real daemons, real sshd replication):
a write made on the secondary is forwarded, and with the primary down the page says that
the primary is unreachable instead of failing silently."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from hapair import build_pair, running, sshd_available

pytestmark = pytest.mark.skipif(sshd_available() is not None,
                                reason=f"HA pair: {sshd_available()}")


@pytest.fixture
def pair(tmp_path):
    a, b = build_pair(tmp_path)
    with running(a, b) as nodes:
        yield nodes


def test_appliance_and_writes_on_the_secondary(browser, pair):
    primary, secondary = pair
    password = (primary.basedir / "initial-admin-password").read_text().strip()
    context = browser.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        page.goto(secondary.url + "/")
        page.fill("#l-user", "admin")
        page.fill("#l-pass", password)
        page.click("form button[type=submit]")
        page.wait_for_selector("main h2:text('Overview')")
        page.click("header nav >> a[href='/appliance']")
        page.wait_for_selector("[data-testid=appliance]")
        assert page.locator("dd[data-key=node]").inner_text() == "node-b"
        assert page.locator("dd[data-key=role]").inner_text() == "secondary"

        page.goto(secondary.url + "/profile")  # forwarded to the primary, replicated back
        page.fill("#p-email", "forwarded@example.com")
        page.click("text=Save profile")
        page.wait_for_selector("text=Profile saved.")
        assert primary.config()["users"][0]["email"] == "forwarded@example.com"

        primary.kill9()
        page.fill("#p-email", "lost@example.com")
        page.click("text=Save profile")
        alert = page.locator("form[aria-labelledby=profile-title] [role=alert]")
        alert.wait_for(timeout=30_000)
        assert alert.inner_text().startswith("Primary unreachable (nothing was changed): ")
        assert secondary.config()["users"][0]["email"] == "forwarded@example.com"
    finally:
        context.close()
