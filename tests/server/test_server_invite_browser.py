"""Inviting and accepting in Debian's chromium (Playwright), under the server's CSP: the
administrator invites from /admin/users, copies the link shown once, signs out; the link's page
fills in the code from the fragment with its own script, the person chooses a password and lands
signed in. Every request the server receives is recorded: the token is in no path or query."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_world import PASSWORD, World, build_world, serve_app
from starlette.types import ASGIApp, Receive, Scope, Send
from store_backends import open_store

NEW_PASSWORD = "nina-picks-a-long-one"


class Recorder:
    """ASGI wrapper keeping every request's path and query string (what an access log writes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Record, then pass the request on."""
        if scope["type"] == "http":
            self.seen.append(f"{scope['method']} {scope['path']}?{scope['query_string'].decode()}")
        await self.app(scope, receive, send)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, World, Recorder]]:
    """A live server over SQLite, its requests recorded."""
    store = open_store("sqlite", tmp_path, None)
    world = build_world(store)
    recorder = Recorder(world.app)
    for url in serve_app(recorder):
        yield url, world, recorder
    store.close()


def test_invite_and_accept_in_the_browser(
    served: tuple[str, World, Recorder], page: Any, tmp_path: Path
) -> None:
    url, _, recorder = served
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{url}/admin/users")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/users")
    form = page.locator("#new-invite")
    form.locator("input[name=username]").fill("nina")
    form.locator("select[name=role_demo]").select_option("maintainer")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    link = page.locator("#invite-link").input_value()
    assert link.startswith(f"{url}/invite#")
    token = link.split("#", 1)[1]
    page.screenshot(path=str(tmp_path / "invite-created.png"), full_page=True)
    with page.expect_navigation():
        page.click("form.signout button")
    page.goto(link)
    page.wait_for_function("document.getElementById('invite-code').value.length > 0")
    assert page.locator("#invite-code").input_value() == token
    assert "#" not in page.url  # the script dropped the code from the address bar
    with page.expect_navigation():
        page.click("#invite-open button[type=submit]")
    assert page.locator(".invited-name").inner_text() == "nina"
    page.fill("#invite-accept input[name=password]", NEW_PASSWORD)
    page.fill("#invite-accept input[name=confirm]", NEW_PASSWORD)
    with page.expect_navigation():
        page.click("#invite-accept button[type=submit]")
    assert page.url == f"{url}/"
    assert "nina" in page.locator("form.signout").inner_text()
    page.screenshot(path=str(tmp_path / "invite-accepted.png"), full_page=True)
    assert errors == []  # no CSP refusal, no script error
    # The link works once (the browser logs the 422 answer as a console error).
    page.goto(link)
    page.wait_for_function("document.getElementById('invite-code').value.length > 0")
    with page.expect_navigation():
        page.click("#invite-open button[type=submit]")
    assert "this invite was used already" in page.locator("p.error").inner_text()
    assert any(seen.startswith("POST /invite?") for seen in recorder.seen)
    assert [seen for seen in recorder.seen if token in seen] == []
