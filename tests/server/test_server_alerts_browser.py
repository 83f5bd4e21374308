"""The alert pages in Debian's chromium (Playwright): sign in, filter, open an alert, acknowledge and
close it with the page's own form under the server's CSP, follow a user to the identity page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_world import PASSWORD, Live, bearer, build_world, serve_in_thread
from store_backends import open_store

from bastion.findings import Alert, Severity


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Live]:
    """A live server over SQLite."""
    store = open_store("sqlite", tmp_path, None)
    yield from serve_in_thread(build_world(store))
    store.close()


def _alerts() -> list[dict[str, object]]:
    t = datetime(2026, 3, 2, 8, tzinfo=UTC)
    spray = Alert(
        "identity.password-spray",
        Severity.HIGH,
        14.0,
        "203.0.113.66",
        "ip",
        t,
        t + timedelta(minutes=28),
        "Password spray: 203.0.113.66 tried 14 accounts with 1 password each in 28 minutes.",
        ("2026-03-02T08:00:00Z u1@ex.com 203.0.113.66 failure 50126",),
        ("T1110.003",),
        {"users": ["dana@ex.com", "u1@ex.com"], "ips": ["203.0.113.66"]},
    )
    travel = Alert(
        "identity.impossible-travel",
        Severity.MEDIUM,
        2400.0,
        "dana@ex.com",
        "user",
        t + timedelta(hours=2),
        t + timedelta(hours=2, minutes=30),
        "Impossible travel: dana@ex.com signed in from Berlin and 30 minutes later from Sydney.",
        (),
        ("T1078",),
        {"users": ["dana@ex.com"], "ips": ["198.51.100.1", "192.0.2.44"]},
    )
    return [spray.to_dict(), travel.to_dict()]


def test_acknowledge_and_close_in_the_browser(served: Live, page: Any, tmp_path: Path) -> None:
    response = httpx.post(
        f"{served.url}/api/v1/alerts", json=_alerts(), headers=bearer(served.world.demo_token)
    )
    assert response.status_code == 201
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{served.url}/alerts")
    page.fill("input[name=username]", "maya")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/alerts")
    assert page.locator("table.alerts tbody tr").count() == 2
    page.screenshot(path=str(tmp_path / "alerts.png"), full_page=True)
    page.fill("input[name=detector]", "identity.impossible-travel")
    page.click("#alert-filters button[type=submit]")
    page.wait_for_url("**detector=identity.impossible-travel**")
    assert page.locator("table.alerts tbody tr").count() == 1
    page.click("table.alerts a:has-text('identity.impossible-travel')")
    assert "30 minutes later from Sydney" in page.locator(".explanation").inner_text()
    page.fill("#alert-status-form textarea[name=reason]", "called dana: not her")
    # each status form posts and redirects back: wait for that navigation, not the page already loaded
    with page.expect_navigation():
        page.click("#alert-status-form button[value=acknowledged]")
    assert "called dana: not her" in page.locator("ol.history").inner_text()
    with page.expect_navigation():
        page.click("#alert-status-form button[value=closed]")
    assert page.locator(".facts .status").first.inner_text() == "closed"
    page.screenshot(path=str(tmp_path / "alert.png"), full_page=True)
    page.click("a:has-text('dana@ex.com')")
    page.wait_for_url("**/identity/dana%40ex.com")
    timeline = page.locator("ol.timeline li")
    assert timeline.count() == 2 and "Password spray" in page.locator("ol.timeline").inner_text()
    page.screenshot(path=str(tmp_path / "identity.png"), full_page=True)
    assert errors == []
