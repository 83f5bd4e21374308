"""The dashboard in a real headless chromium: sign in, upload, triage, see the chart change."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from server_world import DATA, PASSWORD, Live
from sqlalchemy import select

from bastion.store.ingest import ingest
from bastion.store.models import Project, utcnow
from bastion.store.parse import parse_upload


def _seed_history(live: Live) -> None:
    """Two earlier scans: most findings 12 days ago plus two old ones that were fixed 6 days
    ago (one of them an advisory published 30 days ago), five of them gone 6 days ago."""
    store = live.world.store
    with store.read() as session:
        project = session.scalars(select(Project.id).where(Project.slug == "demo")).one()
    parsed = parse_upload((DATA / "examples-scan.json").read_bytes(), "examples-scan.json")
    everything = parsed.findings
    old = [
        f.with_changes(fingerprint=f"retired{i}", title=f"Retired {f.title}")
        for i, f in enumerate(everything[:2])
    ]
    old[0] = old[0].with_changes(metadata={"published": (utcnow() - timedelta(days=30)).isoformat()})
    parsed.findings = everything[:20] + old
    ingest(store, project, parsed, "ci", now=utcnow() - timedelta(days=12))
    parsed.findings = everything[:15]
    ingest(store, project, parsed, "ci", now=utcnow() - timedelta(days=6))


def _legend(page: Any, severity: str) -> int:
    text = page.locator("#trend-chart svg text.legend", has_text=severity).first.text_content() or ""
    return int(text.split()[-1])


def test_sign_in_upload_triage_and_chart_changes(live_server: Live, browser_page: Any, shots: Path) -> None:
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server.url}/")
    assert page.url.endswith("/login?next=/")
    page.fill("input[name=username]", "maya")
    page.fill("input[name=password]", "wrong password!")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "Wrong user name or password."
    page.fill("input[name=username]", "maya")
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=str(shots / "01-login.png"))
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert _legend(page, "high") == 0
    _seed_history(live_server)
    page.reload()
    seeded = _legend(page, "high")
    assert 0 < seeded < 13
    assert page.locator(".tile.latency .muted").inner_text().startswith("7 fixed")

    page.goto(f"{live_server.url}/projects/demo")
    page.set_input_files("input[type=file]", str(DATA / "examples-scan.json"))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url(re.compile(r".*/scans\?project=demo&uploaded=\d+"))
    assert "uploaded" in page.locator(".notice").inner_text()
    page.screenshot(path=str(shots / "02-scans.png"), full_page=True)

    page.goto(f"{live_server.url}/")
    high_before = _legend(page, "high")
    assert high_before == 13
    page.screenshot(path=str(shots / "03-overview.png"), full_page=True)

    page.goto(f"{live_server.url}/findings?project=demo&severity=high")
    page.screenshot(path=str(shots / "04-findings.png"), full_page=True)
    first_row = page.locator("table.findings tbody tr").first
    row_id = first_row.get_attribute("id")
    first_row.locator("button", has_text="False positive").click()
    page.locator(f"#{row_id} .status", has_text="False positive").wait_for()

    page.locator("input[name=q]").fill("SafeLoader")
    page.locator("#results p.muted", has_text=re.compile(r"^1 finding\b")).wait_for()
    page.locator("table.findings tbody tr a").first.click()
    page.wait_for_url(re.compile(r".*/findings/\d+$"))
    page.select_option("select[name=status]", "risk_accepted")
    page.fill("textarea[name=reason]", "only loads our own config files")
    page.fill("input[name=until]", "2099-06-30")
    page.click("#triage-form button[type=submit]")
    page.locator(".history li", has_text="Risk accepted").wait_for()
    page.screenshot(path=str(shots / "05-finding.png"), full_page=True)

    page.goto(f"{live_server.url}/")
    assert _legend(page, "high") == high_before - 2
    assert page.locator(".tile.latency .muted").inner_text().startswith("2 fixed")
    page.screenshot(path=str(shots / "06-overview-after.png"), full_page=True)
    page.goto(f"{live_server.url}/projects/demo")
    assert page.locator("h2", has_text="Compliance").count() == 1
    page.screenshot(path=str(shots / "07-project.png"), full_page=True)
    page.click('button:has-text("Sign out")')
    page.wait_for_url(re.compile(r".*/login$"))
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
