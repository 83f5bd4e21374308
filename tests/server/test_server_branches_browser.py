"""The branch filter and the finding's branches in a real browser (Debian chromium): choosing a
branch and its state updates the list in place (htmx), the finding page says where it is open and
fixed, and neither page is wider than a phone (414 px) with a long repository name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from server_world import CHROMIUM, CHROMIUM_ARGS, PASSWORD, Live
from test_server_branches import upload

LONG = "gitlab.example.com/platform-engineering/payments/checkout-service-with-a-long-name"
SHOTS = Path(__file__).parents[2] / "build" / "screenshots"


def test_branch_filter_and_finding_branches_in_the_browser(live_sqlite: Live) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import expect, sync_playwright

    upload(live_sqlite, ("sqli", "eval"), repository=LONG, branch="main")
    upload(live_sqlite, ("sqli", "eval"), repository=LONG, branch="release/1.2")
    upload(live_sqlite, ("sqli",), repository=LONG, branch="main")
    base = live_sqlite.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page: Any = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "maya")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/findings?project=demo")
        assert page.locator("table.findings tbody tr").count() == 2
        with page.expect_response(lambda r: "branch=main" in r.url and "branch_status=fixed" in r.url):
            page.select_option("select[name=branch]", "main")
            page.select_option("select[name=branch_status]", "fixed")
        expect(page.locator("table.findings tbody tr")).to_have_count(1)  # polls without eval (CSP)
        assert "eval found" in page.locator("table.findings tbody").inner_text()
        assert "branch=main" in page.url  # the filter is in the address, so it can be shared
        page.screenshot(path=str(SHOTS / "branches-list.png"), full_page=True)
        page.click("table.findings tbody a")
        page.wait_for_url(f"{base}/findings/*")
        assert "open on release/1.2, fixed on main" in page.locator(".branch-summary").inner_text()
        page.screenshot(path=str(SHOTS / "branches-finding.png"), full_page=True)
        finding = page.url
        page.set_viewport_size({"width": 414, "height": 896})
        for url in (f"{base}/findings?project=demo", finding):
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 414, f"{url} is {width} px wide at 414 px"
        page.screenshot(path=str(SHOTS / "branches-finding-phone.png"), full_page=True)
        browser.close()
