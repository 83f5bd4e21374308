"""The metrics page in a real headless chromium: every chart drawn, no label cut, CSV downloads."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from server_world import PASSWORD, Live
from sqlalchemy import select

from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.store.accounts import create_project
from bastion.store.coverage import Coverage, Scope
from bastion.store.ingest import ingest
from bastion.store.models import Project, utcnow
from bastion.store.parse import ParsedScan

LONG_SLUG = "payments-settlement-reconciliation-service"
LONG_RULE = "deps.GHSA-jfh8-c2jp-5v3q-log4j-core-remote-code-execution-jndi-lookup"

# Every text of every chart that lies outside its SVG's box (a cut label), as "text (svg box)".
CLIPPED_TEXTS = """
() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.width === 0) continue;
      const outside = r.left < box.left - 0.5 || r.right > box.right + 0.5
        || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5;
      if (outside) {
        out.push(`${t.textContent} [${r.left | 0}..${r.right | 0}] in [${box.left | 0}..${box.right | 0}]`);
      }
    }
  }
  return out;
}
"""


def _finding(rule: str, path: str, severity: Severity, **metadata: object) -> Finding:
    location = Location(path=path, start_line=1)
    return Finding(
        rule_id=rule,
        scanner="deps" if rule.startswith("deps.") else "sast",
        title=f"{rule} title",
        severity=severity,
        location=location,
        message=rule,
        fingerprint=make_fingerprint(rule, location, path),
        metadata=dict(metadata),
    )


def _scan(*findings: Finding) -> ParsedScan:
    names = frozenset({"sast", "deps"})
    scope = Scope(".", (), names, names)
    return ParsedScan("bastion", "bastion test", sorted(names), list(findings), Coverage(scopes=(scope,)))


def _seed(live: Live) -> None:
    """Three projects (one with a long slug), 40 days of history, a KEV finding, a long rule id."""
    store = live.world.store
    with store.write() as session:
        create_project(session, LONG_SLUG, "Payments settlement", "root")
    with store.read() as session:
        ids = dict(session.execute(select(Project.slug, Project.id)).all())
    now = utcnow()
    listed = (now - timedelta(days=50)).date().isoformat()
    for n, slug in enumerate(sorted(ids)):
        base = [_finding(f"sast.rule-{i}", f"src/m{i}.py", list(Severity)[i % 5]) for i in range(6 + 3 * n)]
        kev = _finding(LONG_RULE, "pom.xml", Severity.CRITICAL, kev=True, kev_date_added=listed)
        ingest(store, ids[slug], _scan(*base, kev), "ci", now=now - timedelta(days=40))
        ingest(store, ids[slug], _scan(*base[2:], kev), "ci", now=now - timedelta(days=25))
        ingest(store, ids[slug], _scan(*base[3:]), "ci", now=now - timedelta(days=4 + n))


def _sign_in(page: Any, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_metrics_page_draws_every_chart_without_cut_labels(
    live_server: Live, browser_page: Any, shots: Path
) -> None:
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/metrics")
    assert page.locator("#metric-mttr .no-data").count() == 1  # nothing fixed yet: no fake zero
    _seed(live_server)
    page.reload()
    page.screenshot(path=str(shots / "metrics-1360.png"), full_page=True)
    assert page.locator(".no-data").count() == 0
    assert page.locator("svg.chart").count() == 6  # coverage is a table
    assert page.evaluate(CLIPPED_TEXTS) == []
    legend = page.locator("#metric-burndown svg text.legend").all_text_contents()
    assert len(legend) == 3 and any(text.startswith("payments-settl") for text in legend)
    tooltip = page.locator("#metric-kev svg text.axis title").first.text_content() or ""
    assert LONG_RULE in tooltip  # the shortened label keeps the full rule id in its tooltip
    with page.expect_download() as download:
        page.click("#metric-rules a.csv")
    saved = download.value.path()
    assert saved is not None and Path(saved).read_text(encoding="utf-8").startswith("rule_id,projects")
    page.set_viewport_size({"width": 414, "height": 900})
    page.reload()
    page.screenshot(path=str(shots / "metrics-414.png"), full_page=True)
    assert page.evaluate(CLIPPED_TEXTS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 414
    page.goto(f"{live_server.url}/metrics?project={LONG_SLUG}")
    assert page.locator("h1").inner_text().endswith("Payments settlement")
    assert page.evaluate(CLIPPED_TEXTS) == []
    assert errors == []


def _seed_examples(live: Live, copies: int = 3) -> None:
    """The examples scan into demo, each finding ``copies`` times (distinct fingerprints)."""
    from server_world import DATA

    from bastion.store.parse import parse_upload

    with live.world.store.read() as session:
        demo = session.scalars(select(Project.id).where(Project.slug == "demo")).one()
    parsed = parse_upload((DATA / "examples-scan.json").read_bytes(), "examples-scan.json")
    parsed.findings = [
        f.with_changes(fingerprint=f"{f.fingerprint}-{n}") for n in range(copies) for f in parsed.findings
    ]
    ingest(live.world.store, demo, parsed, "ci")


OPEN_ALL = "() => { document.querySelectorAll('details').forEach(d => d.open = true); }"
HEIGHT = "() => document.documentElement.scrollHeight"


def test_compliance_page_folds_passing_families(live_server: Live, browser_page: Any, shots: Path) -> None:
    """Height as served (failing families open) against every fold opened (the unfolded page)."""
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _seed_examples(live_server)
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/compliance")
    served = page.evaluate(HEIGHT)
    page.screenshot(path=str(shots / "compliance-served.png"), full_page=True)
    first = page.locator("details.family").first
    assert first.get_attribute("class") == "family has-fail" and first.get_attribute("open") is not None
    assert page.locator("details.family.no-fail[open]").count() == 0
    more = page.locator("li.more summary").first
    more.click()
    assert page.locator("li.more details[open] li.finding").count() > 0
    page.evaluate(OPEN_ALL)
    unfolded = page.evaluate(HEIGHT)
    print(f"compliance page at 1360 px: {served} px as served, {unfolded} px with every fold open")
    assert served < unfolded / 2
    assert errors == []  # no inline style or script refused by the CSP
