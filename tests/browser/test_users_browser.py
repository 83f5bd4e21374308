"""Users and roles in a real headless chromium (issue 27): a site administrator creates a user,
gives them a role in a project, disables and enables them; the new user signs in and sees the
project, and no password appears on any page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from server_world import PASSWORD, Live
from sqlalchemy import select

from bastion.store.models import AuditEvent

NEW_PASSWORD = "Browser-made password 42"


def _sign_in(page: Any, url: str, name: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_admin_manages_a_user(live_server: Live, browser_page: Any, shots: Path) -> None:
    page = browser_page
    url = live_server.url
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _sign_in(page, url, "root", PASSWORD)
    page.wait_for_url(f"{url}/")
    page.click("header nav a:has-text('Users')")
    page.wait_for_url(f"{url}/admin/users")

    # A refused form comes back with the reason, the name kept and no password in the page.
    page.fill("#new-user input[name=username]", "carol")
    page.fill("#new-user input[name=password]", NEW_PASSWORD)
    page.fill("#new-user input[name=confirm]", NEW_PASSWORD + "!")
    page.click("#new-user button[type=submit]")
    page.locator("text=the two passwords differ").wait_for()
    assert page.input_value("#new-user input[name=username]") == "carol"
    assert page.input_value("#new-user input[name=password]") == ""
    assert NEW_PASSWORD not in page.content()

    page.fill("#new-user input[name=password]", NEW_PASSWORD)
    page.fill("#new-user input[name=confirm]", NEW_PASSWORD)
    page.click("#new-user button[type=submit]")
    row = page.locator("tr[data-user=carol]")
    row.wait_for()
    assert row.locator("td.state").inner_text() == "active"

    row.locator("select[name=project]").select_option("demo")
    row.locator("select[name=role]").select_option("maintainer")
    row.locator("button:has-text('Set')").click()
    page.locator("tr[data-user=carol] td.roles:has-text('demo: maintainer')").wait_for()

    page.locator("tr[data-user=carol] button:has-text('Disable')").click()
    page.locator("tr[data-user=carol] td.state:has-text('disabled')").wait_for()
    page.screenshot(path=str(shots / "users-01-disabled.png"), full_page=True)
    page.locator("tr[data-user=carol] button:has-text('Enable')").click()
    page.locator("tr[data-user=carol] td.state:has-text('active')").wait_for()
    assert NEW_PASSWORD not in page.content()
    assert page.locator("table.audit").inner_text().count("carol") >= 4

    page.click("form.signout button")
    _sign_in(page, url, "carol", NEW_PASSWORD)
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/projects")
    assert page.locator("text=demo").count() >= 1
    response = page.goto(f"{url}/admin/users")
    assert response is not None and response.status == 403
    assert not re.search(r"Users</a>", page.content())
    # The refused form (422) and the refused page (403) are the only failed loads; nothing else
    # (a CSP refusal, a script error) reached the console.
    assert [e.split("status of ")[-1] for e in errors] == ["422 (Unprocessable Entity)", "403 (Forbidden)"]

    with live_server.world.store.read() as session:
        actions = [
            (a.actor, a.action)
            for a in session.scalars(select(AuditEvent).where(AuditEvent.reason.contains("carol")))
        ]
    assert actions[:4] == [
        ("root", "user.created"),
        ("root", "member.role"),
        ("root", "user.disabled"),
        ("root", "user.enabled"),
    ]
