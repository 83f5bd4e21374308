"""The HTML report in Debian's chromium: what a board reader sees first, at a laptop's and a
narrow window's width, with nothing cut or spilling sideways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bastion.ready.evidence import Evidence, EvidenceKind, EvidenceSet
from bastion.ready.mapping import load_mapping
from bastion.ready.models import load_dsomm, load_samm
from bastion.ready.render import DIMENSION_MEANING, ReadyFormat, render
from bastion.ready.score import assess

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ready"
K = EvidenceKind


def _evidence() -> EvidenceSet:
    out = EvidenceSet()
    rows = (
        (K.SCAN_SECRETS, 1.0, 2, "secrets ran (scan.json)", "scans"),
        (K.SCAN_DEPS, 1.0, 2, "deps ran (scan.json)", "scans"),
        (K.FINDINGS_CRITICAL, 0.0, 2, "1 critical finding(s) in scan.json", "findings"),
        (K.SBOM, 1.0, 1, "SBOM with 212 components", "sbom"),
        (K.DRILL_DETECTION, 0.75, 20, "q4-game: 3 of 4 replayed attacks detected", "drills"),
        (K.DRILL_RESPONSE, 1 / 3, 20, "q4-game: 1 of 3 detected attacks contained or resolved", "drills"),
        (K.PHISH_REPORTING, 0.2, 100, "invoice: 8 of 40 reported the phish", "phish"),
        (K.PHISH_REPORTING, 0.1, 200, "parcel: 4 of 40 reported the phish", "phish"),
        (K.PROCESS_BACKUPS, 1.0, 10, 'yes ("Was a backup restored?"), answered by maya', "questionnaire"),
        (K.ALERTS_TRIAGED, 1.0, 45, "4 of 4 alerts triaged within a day", "alerts"),
    )
    for kind, score, days, detail, source in rows:
        out.add(Evidence(kind, score, detail, NOW - timedelta(days=days), f"{source}.json"), source)
    out.missing("catalog", "HTTP 403 for /api/catalog")
    return out


@pytest.fixture
def report(tmp_path: Path) -> Path:
    previous = {"at": "2026-11-01T12:00:00+00:00", "verdict": "not ready", "overall": 20.0,
                "dimensions": {"prepare": 10.0, "detect": 40.0, "respond": 0.0, "recover": 25.0}}  # fmt: skip
    models = (load_dsomm(FIXTURES / "dsomm"), load_samm(FIXTURES / "samm"))
    result = assess(_evidence(), load_mapping(), NOW, models=models, previous=previous)
    path = tmp_path / "ready.html"
    path.write_text(render(result, ReadyFormat.HTML), encoding="utf-8")
    return path


def _layout(page: Any) -> dict[str, Any]:
    """What a reader would trip on, measured in the page."""
    result: dict[str, Any] = page.evaluate(
        """() => {
        const doc = document.documentElement;
        const broken = (sel) => [...document.querySelectorAll(sel)].filter(s => s.getClientRects().length > 1)
                                  .map(s => s.textContent);
        return {
          overflow: doc.scrollWidth - doc.clientWidth,
          answerBottom: document.querySelector('.answer').getBoundingClientRect().bottom,
          brokenTokens: broken('.cmd span'),
          wrappedStates: broken('td .nowrap'),
          states: document.querySelectorAll('td .nowrap').length,
          cards: [...document.querySelectorAll('.dim')].map(d => d.innerText.replace(/\\s+/g, ' ')),
          scoreTops: [...document.querySelectorAll('.dim b')].map(b => Math.round(b.offsetTop)),
        };
    }"""
    )
    return result


@pytest.mark.parametrize("width", [1360, 800])
def test_board_report_reads_first_and_nothing_is_cut(page: Any, report: Path, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(report.as_uri())
    layout = _layout(page)
    assert layout["overflow"] <= 0  # no sideways scrolling
    assert layout["answerBottom"] < 900  # the answer is on the first screen
    assert layout["brokenTokens"] == []  # a command never breaks inside "--by" or "ir-plan-tested"
    assert layout["wrappedStates"] == [] and layout["states"] > 24  # "not evidenced" stays on one line
    assert len(set(layout["scoreTops"])) == 1  # the four scores side by side, however long each caption
    for card, (dim, meaning) in zip(layout["cards"], DIMENSION_MEANING.items(), strict=True):
        assert card.startswith(dim.capitalize()) and meaning in card  # each area says what it means
    text = page.inner_text("body")
    # prepare 3 of 14 kinds (21.4), detect 0.75 of 4 (18.8: triage is stale), respond (1/3 + 0.2) of 4
    # (13.3), recover 1 of 2 (50): overall 25.9, against 20 before
    assert "Overall score 26/100, +6 points since 1 Nov 2026, 12:00 UTC." in text
    assert "We call it ready when every area below scores at least 75, partly ready at 40 or more" in text
    # respond is the weakest area: its unanswered questions come first, each with what to do
    first = page.inner_text("ol > li:first-child")
    assert first.startswith("Incident response plan tested (respond): not evidenced")
    assert "To fix: test the incident response plan in a tabletop and record it." in text
    assert "invoice: 8 of 40 reported the phish (score was 10% on 15 May 2026) (100 days old)" in text
    assert "monitoring alerts" in text and "HTTP 403 for /api/catalog" in text
    shot = report.with_suffix(f".{width}.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
