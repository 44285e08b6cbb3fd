"""The dashboard as an operator uses it, in Chromium: sign in, settle a conflict a real sync
made, retry a dead letter once its cause is fixed, find a link by its title."""

from __future__ import annotations

import time
from typing import Any

from tests.fixtures.bridge import seed
from tests.ui.conftest import PASSWORD, Site, in_thread, screenshot


def sign_in(page: Any, site: Site, path: str = "/ui/") -> None:
    page.goto(site.url + path)
    page.get_by_label("Dashboard password").fill(PASSWORD)
    page.get_by_label("Dashboard password").press("Enter")
    page.wait_for_url(f"**{path}")


def test_a_wrong_password_is_refused_and_the_right_one_opens_the_overview(page, site: Site):
    seed(site.bridge.pms, tasks=2, comments=False)
    in_thread(site.bridge.sync)
    page.goto(site.url + "/ui/")
    assert page.url.endswith("/ui/login?next=/ui/")
    page.get_by_label("Dashboard password").fill("guess")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "That is not the dashboard password."
    page.get_by_label("Dashboard password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/")
    tasks = page.get_by_role("row", name="tasks")
    assert tasks.get_by_role("cell").nth(0).inner_text() == "2"  # links
    assert "→ Trello" in page.locator(".timeline li").first.inner_text()
    screenshot(page, "overview")
    # Keyboard: the skip link comes first, then the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Overview"


def test_a_conflict_from_a_real_sync_is_resolved_from_the_page(page, site: Site):
    bridge = site.bridge
    data = seed(bridge.pms, tasks=1, comments=False)
    in_thread(bridge.sync)
    task_id = data["tasks"][0]["id"]
    card = bridge.trello.cards(bridge.only_board()["id"])[0]
    bridge.pms.update("tasks", task_id, title="Older title from PMS")
    time.sleep(0.05)
    bridge.trello.call("PUT", f"/cards/{card['id']}", name="Newer title from Trello")
    assert in_thread(bridge.sync).count("conflicts") == 1

    sign_in(page, site, "/ui/conflicts")
    article = page.locator("article.conflict")
    assert "Older title from PMS" in article.locator(".side.loser").inner_text()
    assert "Newer title from Trello" in article.locator(".side.winner").inner_text()
    screenshot(page, "conflicts")
    page.get_by_role("button", name="keep the Custompms value on both sides").click()
    assert "is now 'Older title from PMS' on both sides" in page.get_by_role("status").inner_text()
    assert page.locator("article.conflict").count() == 0
    # Both systems hold the value taken, as a person checks them.
    assert bridge.pms.get("tasks", task_id)["title"] == "Older title from PMS"
    assert bridge.trello.call("GET", f"/cards/{card['id']}")["name"] == "Older title from PMS"


def test_a_dead_letter_is_retried_from_the_page_once_its_cause_is_fixed(page, site: Site):
    bridge = site.bridge
    data = seed(bridge.pms, tasks=2, comments=False)
    bad = data["tasks"][0]["id"]
    bridge.pms.update("tasks", bad, description="x" * 16384)  # too long for Trello
    assert in_thread(bridge.sync).errors == 1

    sign_in(page, site, "/ui/dead-letters")
    letter = page.locator("article.letter")
    assert bad in letter.locator("h2").inner_text()
    assert "16,384 characters" in letter.inner_text()
    screenshot(page, "dead-letters")
    # Still too long: the retry fails again and says so.
    letter.get_by_role("button", name="retry now").click()
    assert "1 record(s) failed again" in page.get_by_role("status").inner_text()
    bridge.pms.update("tasks", bad, description="Short enough")
    page.locator("article.letter").get_by_role("button", name="retry now").click()
    assert "every record went through" in page.get_by_role("status").inner_text()
    assert page.get_by_text("No dead letters.").is_visible()
    names = sorted(c["name"] for c in bridge.trello.cards(bridge.only_board()["id"]))
    assert names == ["Task 0", "Task 1"]


def test_links_are_found_by_title_and_open_on_both_sides(page, site: Site):
    bridge = site.bridge
    seed(bridge.pms, tasks=3, comments=False)
    in_thread(bridge.sync)
    sign_in(page, site, "/ui/links")
    page.get_by_label("Title or id contains").fill("task 2")
    page.get_by_label("Flow").select_option("tasks")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("status").inner_text().startswith("1 link(s) matching “task 2”")
    row = page.locator("tbody tr")
    assert row.count() == 1
    card = next(c for c in bridge.trello.cards(bridge.only_board()["id"]) if c["name"] == "Task 2")
    trello_link = row.get_by_role("link", name="Task 2").nth(1)
    assert trello_link.get_attribute("href") == f"https://trello.com/c/{card['id']}"
    pms_link = row.get_by_role("link", name="Task 2").nth(0)
    assert pms_link.get_attribute("href").startswith(bridge.pms.url + "/tasks/")
    screenshot(page, "links")


def test_pages_fit_a_400_px_wide_screen(browser, site: Site):
    seed(site.bridge.pms, tasks=1, comments=False)
    in_thread(site.bridge.sync)
    context = browser.new_context(viewport={"width": 400, "height": 800})
    tab = context.new_page()
    try:
        sign_in(tab, site)
        for path in ("/ui/", "/ui/conflicts", "/ui/dead-letters", "/ui/links"):
            tab.goto(site.url + path)
            width = tab.evaluate("document.documentElement.scrollWidth")
            assert width <= 400, f"{path} is {width} px wide"
            unlabelled = tab.evaluate(
                """[...document.querySelectorAll('input:not([type=hidden]), select')]
                   .filter(e => !e.labels || e.labels.length === 0).length"""
            )
            assert unlabelled == 0, path
    finally:
        context.close()
