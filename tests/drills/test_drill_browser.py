"""The war-games page in Debian's headless chromium: sign in, press ack, see the scoreboard change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_world import PASSWORD, Live, build_world, page, serve_in_thread
from store_backends import open_store

from bastion.drills.exercise import load_exercise
from bastion.drills.journal import Journal
from bastion.drills.replay import replay
from conftest import write_exercise

__all__ = ["page"]  # the fixture, shared with the server tests


@pytest.fixture
def drills_server(tmp_path: Path) -> Iterator[Live]:
    root = tmp_path / "drills"
    (root / "tabletop").mkdir(parents=True)
    ex = load_exercise(write_exercise(root / "tabletop", scenarios=["mfa-fatigue"], detectors=["identity"]))
    replay(ex, Journal.open(root / "tabletop"))
    store = open_store("sqlite", tmp_path, None)
    world = build_world(store)
    world.app.state.drills_dir = str(root)
    yield from serve_in_thread(world)
    store.close()


def test_ack_from_the_dashboard(drills_server: Live, page: Any, tmp_path: Path) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{drills_server.url}/drills/tabletop")
    page.fill("input[name=username]", "maya")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{drills_server.url}/drills")
    page.click("a[href='/drills/tabletop']")
    assert page.locator(".drill-cell.detected", has_text="T1621").count() == 1
    assert "None yet." in page.content()
    row = page.locator("table.drill-alerts tbody tr").first
    row.locator("form", has=page.locator("button", has_text="ack")).locator("input[name=after_s]").fill("45")
    row.locator("button", has_text="ack").click()
    page.wait_for_url("**/drills/tabletop#alert-*")
    assert "blue ack" in page.content()
    scenarios = page.locator("table.drill-scenarios").inner_text()
    assert "mfa-fatigue" in scenarios
    page.screenshot(path=str(tmp_path / "drills.png"), full_page=True)
    assert errors == []
