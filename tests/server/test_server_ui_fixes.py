"""Fixes from trying the dashboard (issue 27): the info finding has a card, and the findings
table scrolls inside its box at phone width (414 px) instead of widening the page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers_store import finding, scan_of
from server_world import PASSWORD, Live, World, login

from bastion.findings import Severity
from bastion.store.ingest import ingest

CHROMIUM = Path(os.environ.get("BASTION_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _seed(world: World) -> None:
    long_path = "services/payments/internal/adapters/outbound/persistence/" + "very_long_module_name/" * 4
    findings = [
        finding("debug-flag", "app/settings.py", "d", Severity.INFO),
        finding("sqli", f"{long_path}db.py", "q", Severity.HIGH),
        finding("xss", f"{long_path}view.py", "v", Severity.MEDIUM),
    ]
    ingest(world.store, 1, scan_of(*findings), "ci")


def _tile(html: str, severity: str) -> str:
    match = re.search(rf'<a class="tile sev-{severity}"[^>]*>\s*<span class="num">(\d+)</span>', html)
    assert match is not None, f"no {severity} tile"
    return match.group(1)


def test_the_single_info_finding_has_its_card(world: World, client: TestClient) -> None:
    _seed(world)
    login(client, "maya")
    for page in ("/", "/projects/demo"):
        html = client.get(page).text
        assert _tile(html, "info") == "1" and _tile(html, "high") == "1" and _tile(html, "low") == "0"
        assert "Info open" in html
    listed = client.get("/findings?severity=info").text
    assert "debug-flag title" in listed and "sqli title" not in listed


def test_the_findings_table_scrolls_in_its_box_at_phone_width(live_sqlite: Live) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    _seed(live_sqlite.world)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 414, "height": 896})
        page.goto(f"{live_sqlite.url}/login")
        page.fill("input[name=username]", "maya")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_sqlite.url}/")
        for path in ("/", "/projects/demo", "/scans", "/findings/2"):
            page.goto(f"{live_sqlite.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 414, f"{path} is {width} px wide at 414 px"
        page.goto(f"{live_sqlite.url}/findings?project=demo")
        assert page.locator("table.findings tbody tr").count() == 3
        page_width = page.evaluate("document.documentElement.scrollWidth")
        box = page.evaluate(
            "(() => { const b = document.querySelector('.table-scroll');"
            " return [b.clientWidth, b.scrollWidth, getComputedStyle(b).overflowX]; })()"
        )
        assert page_width <= 414, f"the page is {page_width} px wide at 414 px"
        assert box[2] == "auto" and box[1] >= box[0], box
        page.goto(f"{live_sqlite.url}/")
        tiles = page.locator(".tile.sev-info")
        assert tiles.count() == 1 and tiles.locator(".num").inner_text() == "1"
        assert tiles.bounding_box() is not None and tiles.is_visible()
        browser.close()
