"""The web dashboard in a real browser against a real daemon and simulated controllers."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from browserkit import CONFIGURED, check_axe, login, screenshot

TIMEOUT = 20_000  # ms; the first fetch from the simulators can take a few seconds
DASH = "\u2013"  # the en dash of the pager's "1-10 of 15"


def api(page, path: str, body: dict | None = None) -> dict:
    """The same reply the page gets: through the browser context (its sid cookie)."""
    origin = "{0.scheme}://{0.netloc}".format(urlparse(page.url))
    reply = page.request.post(origin + path, data=json.dumps(body or {}),
                              headers={"Content-Type": "application/json"})
    assert reply.ok, reply.text()
    return reply.json()


def legend(page, chart: str) -> dict[str, int]:
    rows = page.locator(f"[data-chart={chart}] li[data-key]")
    return {rows.nth(i).get_attribute("data-key"): int(
        rows.nth(i).locator(".count").inner_text().replace(",", ""))
        for i in range(rows.count())}


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_login_rejects_a_wrong_password_then_logs_in(page, site):
    page.goto(site.url + "/clusters?state=STARTED")
    page.fill("#l-user", "admin")
    page.fill("#l-pass", "not-the-password")
    page.click("form button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "Wrong username or password."
    page.fill("#l-pass", site.password)
    page.click("form button[type=submit]")
    # The deep link survives the login.
    page.wait_for_selector("main h2:text('Clusters')")
    assert query(page) == {"state": ["STARTED"]}


def test_overview_numbers_equal_the_status_replies(page, site):
    login(page, site)
    page.wait_for_selector("[data-chart=job_count] li", timeout=TIMEOUT)
    page.wait_for_selector("[data-chart=backups_count] li", timeout=TIMEOUT)
    clusters = api(page, "/proxy/clusters/status")
    alarms = api(page, "/proxy/alarms/status")
    jobs = api(page, "/proxy/jobs/status")
    backups = api(page, "/proxy/backups/status")
    assert legend(page, "cluster_states") == clusters["cluster_states"]
    assert legend(page, "node_states") == clusters["node_states"]
    assert legend(page, "alarms_count") == alarms["alarms_count"]
    assert legend(page, "job_count") == jobs["job_count"]
    assert legend(page, "backups_count") == backups["backups_count"]
    missing = page.locator("[data-key=missing_schedules]").inner_text()
    assert int(missing) == backups["missing_schedules"]
    tiles = page.locator("li.tile")
    assert tiles.count() == CONFIGURED
    for url, count in clusters["clusters_count"].items():
        tile = page.locator("li.tile", has=page.locator(f"dd.url:text-is('{url}')"))
        assert tile.locator("dt:text-is('Clusters') + dd").inner_text() == str(count)


def test_page_through_clusters_and_back(page, site):
    login(page, site)
    page.goto(site.url + "/clusters?perPage=10&order=cluster_type")
    page.wait_for_selector("table tbody tr", timeout=TIMEOUT)
    first = page.locator("tbody tr").all_inner_texts()
    assert len(first) == 10
    assert f"1{DASH}10 of 15" in page.locator(".pager").inner_text()
    page.click("nav.pager button:has-text('Next')")
    page.wait_for_function("() => location.search.includes('page=2')")
    page.wait_for_selector(f"text=11{DASH}15 of 15")
    page.wait_for_selector("table[aria-busy=false]")  # the old rows stay until the new come
    second = page.locator("tbody tr").all_inner_texts()
    assert len(second) == 5 and not set(first) & set(second)
    # Every state the page shows on the way back (a MutationObserver's note after each
    # DOM change): the old rows may stay while the new page loads, but marked busy, never
    # under a pager that already says 1-10 as if they were that page.
    page.evaluate("""() => {
      window.seenStates = [];
      new MutationObserver(() => window.seenStates.push([
        document.querySelector("table")?.getAttribute("aria-busy") ?? null,
        document.querySelector("tbody tr td")?.textContent ?? null,
        document.querySelector(".pager")?.textContent ?? null,
      ])).observe(document.body, {subtree: true, childList: true, attributes: true,
                                  characterData: true});
    }""")
    page.go_back()
    page.wait_for_selector(f"text=1{DASH}10 of 15")
    page.wait_for_selector("table[aria-busy=false]")
    assert page.locator("tbody tr").all_inner_texts() == first
    seen = page.evaluate("() => window.seenStates")
    shown_as_first_page = [row for busy, row, pager in seen
                           if busy == "false" and f"1{DASH}10 of 15" in (pager or "")]
    assert shown_as_first_page, seen
    assert set(shown_as_first_page) == {first[0].split("\t")[0]}, seen
    assert query(page) == {"perPage": ["10"], "order": ["cluster_type"]}
    page.go_forward()
    page.wait_for_selector(f"text=11{DASH}15 of 15")


def test_filter_by_state_from_the_chart(page, site):
    login(page, site)
    canvas = page.locator("[data-chart=cluster_states] canvas")
    # The chart's canvas appears once the first reply is in (a loading card comes first).
    page.wait_for_function(
        "() => (document.querySelector('[data-chart=cluster_states] canvas')"
        "?.dataset.bars || '[]') !== '[]'", timeout=TIMEOUT)
    bars = json.loads(canvas.get_attribute("data-bars"))
    target = bars[-1]  # the smallest bar: a real filter
    canvas.click(position={"x": target["x"], "y": target["y"]})
    page.wait_for_selector("main h2:text('Clusters')")
    assert query(page) == {"state": [target["key"]]}
    page.wait_for_selector("table tbody tr", timeout=TIMEOUT)
    states = page.locator("tbody tr td:nth-child(5) .badge").evaluate_all(
        "els => els.map(e => e.title)")
    reply = api(page, "/proxy/clusters/status")
    assert states == [target["key"]] * reply["cluster_states"][target["key"]]
    page.go_back()
    page.wait_for_selector("main h2:text('Overview')")


def test_a_stopped_controller_shows_as_failed_while_the_rest_still_show(page, site):
    login(page, site)
    stopped = site.estate[1]
    stopped.stop()
    try:
        banner = page.locator("[data-testid=failed-banner]")
        for _ in range(20):  # bounded: the daemon pings again within its 1 s cache
            page.click("text=Refresh")
            if banner.count():
                break
            page.wait_for_timeout(500)
        assert re.match(rf"1 of {CONFIGURED} controllers failed: {stopped.name} \(",
                        banner.inner_text())
        assert page.locator("li.tile.failed .tile-name").all_inner_texts() == [
            stopped.name]
        page.wait_for_selector("[data-chart=cluster_states] li")
        for path in ("/clusters", "/alarms"):  # the banner is on every page
            page.click(f"header nav >> a[href='{path}']")
            page.wait_for_selector("table tbody tr", timeout=TIMEOUT)
            assert banner.is_visible()
        screenshot(page, "failed-controller", "light")
    finally:
        stopped.start()


def test_add_a_controller_through_the_form_then_remove_it(page, site):
    login(page, site)
    extra = site.estate[CONFIGURED]
    page.click("header nav >> a[href='/controllers']")
    page.click("text=Add a controller")
    page.fill("#c-url", extra.url)
    page.fill("#c-name", extra.name)
    page.fill("#c-user", extra.username)
    page.fill("#c-pass", "wrong-password")
    page.click("button:text-is('Test')")
    page.wait_for_selector("[data-test-result=authentication-error]", timeout=TIMEOUT)
    page.fill("#c-pass", extra.password)
    page.click("button:text-is('Test')")
    page.wait_for_selector("[data-test-result=ok]", timeout=TIMEOUT)
    screenshot(page, "controller-form", "light")
    page.click("button:text-is('Add controller')")
    row = page.locator("tbody tr", has=page.locator(f"td.url:text-is('{extra.url}')"))
    row.wait_for(timeout=TIMEOUT)
    assert row.locator(".badge").nth(0).get_attribute("title") == "ok"
    assert any(c["url"] == extra.url for c in api(page, "/proxy/controllers/status")["controllers"])
    # Remove asks first; cancel keeps it.
    row.locator("button:text-is('Remove')").click()
    page.click(".confirm button:text-is('Cancel')")
    assert row.count() == 1
    row.locator("button:text-is('Remove')").click()
    page.click(".confirm button:text-is('Remove')")
    page.wait_for_selector(f"text=Removed {extra.name}.")
    row.wait_for(state="detached", timeout=TIMEOUT)


def test_a_cluster_name_holding_markup_renders_as_text(page, site):
    hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    controller = site.estate[0]
    controller.rename_cluster(1, hostile)
    try:
        login(page, site)
        page.goto(site.url + "/clusters")
        cell = page.get_by_role("link", name=hostile)
        for _ in range(20):  # the daemon refetches within its 1 s cache
            if cell.count():
                break
            page.click("text=Refresh")
            page.wait_for_timeout(500)
        assert cell.inner_text() == hostile
        assert page.locator("main img").count() == 0
        assert page.locator("main script").count() == 0
        cell.click()
        page.wait_for_selector("main h2")
        assert page.locator("main h2").inner_text().startswith(hostile)
        assert page.evaluate("() => window.__pwned") is None
    finally:
        controller.rename_cluster(1, "renamed-back-01")


def test_an_expired_session_asks_to_log_in_again(page, site, context):
    login(page, site)
    context.clear_cookies()
    page.click("text=Refresh")
    page.wait_for_selector("#l-user")
    assert "session has expired" in page.locator(".notice").inner_text()


def test_change_the_password_and_log_in_again(page, site):
    login(page, site)
    new = "a-new-password-42"
    page.click(".user-menu > button")
    page.click("text=Change password")
    page.fill("#pw-old", "wrong")
    page.fill("#pw-new", new)
    page.fill("#pw-again", new)
    page.click("button:text-is('Change password')")
    assert "wrong old password" in page.locator("[role=alert]").inner_text()
    page.fill("#pw-old", site.password)
    page.fill("#pw-new", new)
    page.fill("#pw-again", new)
    page.click("button:text-is('Change password')")
    page.wait_for_selector("text=Password changed.")
    try:
        page.click(".user-menu > button")
        page.click("text=Log out")
        page.wait_for_selector("#l-user")
        page.fill("#l-user", "admin")
        page.fill("#l-pass", site.password)
        page.click("form button[type=submit]")
        page.wait_for_selector("text=Wrong username or password.")
        login(page, site, new)
    finally:
        api(page, "/proxy/auth/setpassword", {"old_password": new,
                                              "new_password": site.password})


def test_profile_email_is_saved(page, site):
    login(page, site)
    page.goto(site.url + "/profile")
    page.fill("#p-email", "ops@example.com")
    page.click("text=Save profile")
    page.wait_for_selector("text=Profile saved.")
    assert api(page, "/proxy/auth/check")["user"]["email"] == "ops@example.com"


def test_appliance_shows_this_node(page, site):
    login(page, site)
    page.click("header nav >> a[href='/appliance']")
    page.wait_for_selector("[data-testid=appliance]")
    health = page.request.get(site.url + "/health").json()
    assert page.locator("dd[data-key=node]").inner_text() == health["node"]
    assert page.locator("dd[data-key=role]").inner_text() == health["role"]
    assert page.locator("dd[data-key=generation]").inner_text() == f"{health['generation']:,}"


def test_logout(page, site):
    login(page, site)
    page.click(".user-menu > button")
    page.click("text=Log out")
    page.wait_for_selector("#l-user")
    assert page.locator(".notice").inner_text() == "You are logged out."
    assert page.request.post(site.url + "/proxy/clusters/status", data="{}").status == 401
    page.goto(site.url + "/clusters")
    page.wait_for_selector("#l-user")


PAGES = [("overview", "/", "[data-chart=backups_count] li"),
         ("clusters", "/clusters", "tbody tr"), ("hosts", "/hosts", "tbody tr"),
         ("alarms", "/alarms", "tbody tr"), ("jobs", "/jobs", "tbody tr"),
         ("backups", "/backups", "tbody tr"), ("schedules", "/schedules", "tbody tr"),
         ("missing-schedules", "/missing-schedules", "tbody tr"),
         ("logs", "/logs", "tbody tr"), ("audit", "/audit", "tbody tr"),
         ("cluster", "/clusters/{xid}/2", "main h2 .badge"),
         ("controllers", "/controllers", "tbody tr"), ("appliance", "/appliance", "dl.facts"),
         ("profile", "/profile", "#p-email"), ("not-found", "/no/such/page", "main h2")]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_passes_axe_and_is_screenshotted(browser, site, scheme):
    context = browser.new_context(ignore_https_errors=True, color_scheme=scheme,
                                  viewport={"width": 1280, "height": 900})
    violations: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: "Content Security Policy" in m.text
                and violations.append(m.text))
        page.goto(site.url + "/")
        page.wait_for_selector("#l-user")
        check_axe(page)
        screenshot(page, "login", scheme)
        login(page, site)
        xid = api(page, "/proxy/controllers/status")["controllers"][0]["xid"]
        for name, path, ready in PAGES:
            page.goto(site.url + path.format(xid=xid))
            page.wait_for_selector(ready, timeout=TIMEOUT)
            page.wait_for_load_state("networkidle")
            check_axe(page)
            screenshot(page, name, scheme)
        page.click(".user-menu > button")
        check_axe(page)
        screenshot(page, "user-menu", scheme)
    finally:
        context.close()
    assert violations == []


def test_nothing_secret_in_the_bundle_or_ccmgr_js(page, site):
    page.goto(site.url + "/")
    page.wait_for_selector("#l-user")
    assets = page.evaluate("() => [...document.querySelectorAll("
                           "'script[src], link[rel=stylesheet]')].map(e => e.src || e.href)")
    served = [site.url + "/", site.url + "/ccmgr.js", *assets]
    assert len(served) == 4
    secrets = [site.password] + [c.password for c in site.estate]
    for url in served:
        reply = page.request.get(url)
        assert reply.ok, url
        text = reply.text()
        assert not [s for s in secrets if s in text], url
        if url.endswith("/"):
            assert "<script>" not in text and "style=" not in text  # nothing inline


def test_keyboard_only_use(page, site):
    page.goto(site.url + "/")
    page.wait_for_selector("#l-user")
    page.keyboard.press("Tab")
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type(site.password)
    page.keyboard.press("Enter")
    page.wait_for_selector("main h2:text('Overview')")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    for _ in range(3):  # past the skip link and the brand to the second nav entry
        page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "/clusters"
    page.keyboard.press("Enter")
    page.wait_for_selector("main h2:text('Clusters')")
    page.wait_for_selector("tbody tr", timeout=TIMEOUT)
    page.focus("#filter-state")
    page.keyboard.press("ArrowDown")  # the first state in the list
    chosen = page.eval_on_selector("#filter-state", "e => e.value")
    page.keyboard.press("Tab")  # to the cluster type field, where Enter submits the form
    page.keyboard.press("Enter")
    page.wait_for_function("(v) => location.search === '?state=' + v", arg=chosen)
    page.focus(".user-menu > button")
    page.keyboard.press("Enter")
    assert page.locator("#user-menu-items").is_visible()
    page.keyboard.press("Escape")
    page.locator("#user-menu-items").wait_for(state="detached")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-controls')") == \
        "user-menu-items"  # focus back on the menu button
