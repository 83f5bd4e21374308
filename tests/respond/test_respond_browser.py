"""The /respond page in Debian's headless chromium: an administrator approves, then undoes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from respond_dashboard_world import seed
from server_world import PASSWORD, Live, build_world, page, serve_in_thread
from store_backends import open_store

__all__ = ["page"]  # the fixture, shared with the server tests


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    store = open_store("sqlite", tmp_path, None)
    yield from serve_in_thread(build_world(store))
    store.close()


def test_admin_approves_and_undoes_in_the_browser(live: Live, page: Any, tmp_path: Path) -> None:
    respond = seed(tmp_path / "respond")
    live.world.app.state.respond_ledger = str(respond.ledger)
    live.world.app.state.respond_playbooks = str(respond.playbooks)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live.url}/respond")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/respond")
    pending = page.locator(f"#pending #action-{respond.pending}")
    assert "aws_s3_bucket.logs" in pending.inner_text() and "maya" in pending.inner_text()
    assert page.locator("#in-force tbody tr").count() == 1
    pending.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{live.url}/respond#action-{respond.pending}")
    assert page.locator("#pending").count() == 0 and "Nothing waits for approval." in page.content()
    row = page.locator(f"#in-force #action-{respond.pending}")
    assert re.fullmatch(r"at \S+ · in \d+ s", row.locator(".ttl").inner_text().strip())
    assert page.locator("#audit li").first.inner_text().split()[1:3] == ["bastion-respond", "applied"]
    row.get_by_role("button", name="Undo now").click()
    page.wait_for_url(f"{live.url}/respond#action-{respond.pending}")
    assert page.locator(f"#in-force #action-{respond.pending}").count() == 0
    assert page.locator("#audit li").first.inner_text().split()[1:3] == ["root", "undone"]
    assert errors == []
