"""Fixtures of the browser tests: a live server and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_world import Live, build_world, serve_in_thread
from store_backends import open_store

CHROMIUM = Path(os.environ.get("BASTION_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Live]:
    """A live server over SQLite."""
    store = open_store("sqlite", tmp_path, None)
    yield from serve_in_thread(build_world(store))
    store.close()


@pytest.fixture
def browser_page() -> Iterator[object]:
    """A fresh page of a headless Debian chromium (skipped, with the reason, when absent)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (scripts/install-browser.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        yield page
        context.close()
        browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: BASTION_SCREENSHOTS if set, else the test's tmp dir."""
    directory = Path(os.environ.get("BASTION_SCREENSHOTS", str(tmp_path / "shots")))
    directory.mkdir(parents=True, exist_ok=True)
    return directory
