"""Bulk triage and grouping in a real headless chromium (issue 27): tick rows or select all, apply
one decision from the action bar, group the list by package, expand a group, triage inside it,
and comment on a finding."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from helpers_store import scan_of
from server_world import PASSWORD, Live
from sqlalchemy import select
from triage_seed import triage_findings

from bastion.store.ingest import ingest
from bastion.store.models import FindingComment, FindingRecord, Project


def _seed(live: Live) -> None:
    with live.world.store.read() as session:
        project = session.scalars(select(Project.id).where(Project.slug == "demo")).one()
    ingest(live.world.store, project, scan_of(*triage_findings(), scanners=("sast", "deps")), "ci")


def _states(live: Live) -> dict[str, list[str]]:
    with live.world.store.read() as session:
        rows = session.execute(
            select(FindingRecord.title, FindingRecord.status).order_by(FindingRecord.id)
        ).all()
    states: dict[str, list[str]] = {}
    for title, status in rows:
        states.setdefault(status, []).append(title)
    return states


def _sign_in(page: Any, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "maya")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_bulk_triage_select_all_and_grouping(live_server: Live, browser_page: Any, shots: Path) -> None:
    page = browser_page
    url = live_server.url
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _seed(live_server)
    _sign_in(page, url)

    page.goto(f"{url}/findings?project=demo")
    boxes = page.locator("table.findings input.pick")
    assert boxes.count() == 11
    boxes.nth(0).check()
    boxes.nth(1).check()
    assert page.locator("#bulk-count").inner_text() == "2"
    assert page.locator("#select-all").evaluate("box => box.indeterminate") is True
    page.select_option("#bulk-status", "false_positive")
    page.screenshot(path=str(shots / "triage-01-ticked.png"), full_page=True)
    page.click("#bulk-apply")  # a false positive without a reason: refused, nothing changes
    page.locator("text=a reason is required").wait_for()
    assert set(_states(live_server)) == {"open"}

    page.goto(f"{url}/findings?project=demo&q=app/")
    page.locator("table.findings input.pick").nth(0).check()
    page.locator("table.findings input.pick").nth(1).check()
    page.select_option("#bulk-status", "false_positive")
    page.fill("form#bulk input[name=reason]", "test fixtures, not shipped")
    page.click("#bulk-apply")
    page.wait_for_url(re.compile(r".*/findings\?project=demo.*triaged=2"))
    assert page.locator(".notice").inner_text() == "2 findings triaged."
    assert _states(live_server)["false_positive"] == ["sqli title", "sqli title"]

    # Select all on a filtered page: only what the page shows is ticked, then confirmed.
    page.goto(f"{url}/findings?project=demo&severity=medium")
    page.check("#select-all")
    assert page.locator("#bulk-count").inner_text() == "3"
    page.select_option("#bulk-status", "confirmed")
    page.click("#bulk-apply")
    page.wait_for_url(re.compile(r".*triaged=3"))
    confirmed = _states(live_server)["confirmed"]
    assert len(confirmed) == 3 and all("urllib3" in t for t in confirmed)

    # Nothing ticked: the bar says so instead of posting.
    page.goto(f"{url}/findings?project=demo")
    page.click("#bulk-apply")
    assert page.locator("#bulk-hint").inner_text() == "Tick at least one finding first."
    assert "triaged" not in page.url

    # Group by package: one row for urllib3 with its six advisories, expanded in place.
    page.click(".grouping a:has-text('package')")
    page.wait_for_url(re.compile(r".*/findings/groups\?by=package.*"))
    groups = page.locator("tr.group-row")
    assert groups.count() == 2
    urllib3 = groups.filter(has_text="urllib3")
    summary = urllib3.inner_text().lower()
    assert "1.26.19" in summary and "critical" in summary and "confirmed 3 · open 3" in summary
    assert re.search(r"\b6\b", urllib3.locator("td").nth(3).inner_text())
    urllib3.locator("button.toggle").click()
    expanded = page.locator("tr.group-items:not([hidden]) table.nested tbody tr")
    expanded.first.wait_for()
    assert expanded.count() == 6
    page.screenshot(path=str(shots / "triage-02-grouped.png"), full_page=True)

    # Accept the risk of every urllib3 advisory from inside the group.
    for index in range(6):
        expanded.nth(index).locator("input.pick").check()
    assert page.locator("#bulk-count").inner_text() == "6"
    page.select_option("#bulk-status", "risk_accepted")
    page.fill("form#bulk input[name=reason]", "upgrade planned with the Q1 release")
    page.fill("form#bulk input[name=until]", "2099-03-31")
    page.click("#bulk-apply")
    page.wait_for_url(re.compile(r".*/findings/groups\?.*by=package.*triaged=6"))
    assert len(_states(live_server)["risk_accepted"]) == 6
    urllib3 = page.locator("tr.group-row", has_text="urllib3")
    assert urllib3.count() == 0  # the default filter shows open work only: the group is gone

    page.goto(f"{url}/findings/groups?by=package&project=demo&status=risk_accepted")
    row = page.locator("tr.group-row", has_text="urllib3")
    assert "risk accepted 6" in row.inner_text().lower()
    row.locator("button.toggle").click()
    page.locator("tr.group-items:not([hidden]) table.nested tbody tr").first.wait_for()
    row.locator("button.toggle").click()
    assert page.locator("tr.group-items:not([hidden])").count() == 0

    # Group by rule.
    page.goto(f"{url}/findings/groups?by=rule&project=demo&severity=high")
    sqli = page.locator("tr.group-row", has_text="sast.sqli")
    assert sqli.locator("td").nth(3).inner_text() == "1"  # two of the three were false positives

    # A comment on a finding: kept as typed, shown escaped.
    page.goto(f"{url}/findings?project=demo&severity=high")
    page.locator("table.findings tbody tr a").first.click()
    page.wait_for_url(re.compile(r".*/findings/\d+$"))
    page.locator("#comment-form textarea").fill("<b>checked</b> with the **team**")
    page.click("#comment-form button[type=submit]")
    page.locator("ol.comments li", has_text="<b>checked</b>").wait_for()
    assert page.locator("ol.comments b").count() == 0
    page.screenshot(path=str(shots / "triage-03-comment.png"), full_page=True)
    with live_server.world.store.read() as session:
        assert session.scalars(select(FindingComment.body)).all() == ["<b>checked</b> with the **team**"]
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
