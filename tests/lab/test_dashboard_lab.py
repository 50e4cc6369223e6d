"""Issue 12 on the lab: the dashboard through the balancer survives kill -9 of the node
that served it, without a new login (the session cookie is valid on every node)."""

from __future__ import annotations

import re

import pytest
from browserkit import screenshot
from labkit import Lab
from testkit import poll

pytestmark = pytest.mark.lab

PLAN = Lab.from_env()


def balancer_url() -> str:
    """The one place that knows where the balancer answers: the keepalived pair's
    virtual address."""
    return PLAN.url.rstrip("/")


def serving_node(page) -> str:
    text = page.locator(".refresh .muted").inner_text()
    found = re.search(r"node (\S+)", text)
    return found.group(1) if found else ""


def test_the_open_dashboard_survives_kill_9_of_its_node(site, browser):
    # The lab CA is not in Chromium's store; TLS itself is checked by the other lab tests.
    context = browser.new_context(ignore_https_errors=True,
                                  viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(balancer_url() + "/")
        page.fill("#l-user", "admin")
        page.fill("#l-pass", PLAN.admin_password())
        page.click("form button[type=submit]")
        page.wait_for_selector("[data-chart=cluster_states]", timeout=60_000)
        assert poll(lambda: serving_node(page) in PLAN.groups["ccm"], 30)
        served = serving_node(page)
        screenshot(page, "lab-overview", "light")

        site.ssh(served, "kill -9 $(systemctl show -p MainPID --value ccmgr)")
        try:
            # The open page keeps working: its next requests go to the other node.
            page.click("header nav >> a[href='/clusters']")
            page.wait_for_selector("main h2:text('Clusters')")
            for _ in range(120):  # bounded: at most 120 refreshes, 4 a second
                page.click("text=Refresh")
                page.wait_for_timeout(250)
                if serving_node(page) not in ("", served):
                    break
            assert serving_node(page) not in ("", served)
            assert page.locator("#l-user").count() == 0  # no new login
            page.click("header nav >> a[href='/appliance']")
            page.wait_for_selector("[data-testid=appliance]", timeout=30_000)
            assert page.locator("dd[data-key=node]").inner_text() != served
            screenshot(page, "lab-after-kill", "light")
        finally:
            assert poll(lambda: site.ssh(served, "systemctl is-active ccmgr", check=False)
                        .stdout.strip() == "active", 60)
    finally:
        context.close()
