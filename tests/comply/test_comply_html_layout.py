"""The compliance HTML report stays readable (issue 27, "fixes from trying it"): controls folded by
family with failing families first, every finding reachable ("and N more" expands), and process
evidence inside a control marked with its own verdict."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from bastion.comply.html import SHOWN_FINDINGS, render_html
from bastion.comply.posture import assess

CHROMIUM = Path(os.environ.get("BASTION_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _report(findings: int) -> dict[str, Any]:
    """Secret scanning ran (its evidence passes) and ``findings`` secrets map to SA-11 (it fails)."""
    return {
        "target": "demo",
        "scanners": ["secrets"],
        "findings": [
            {
                "rule_id": "secrets.aws-access-key",
                "scanner": "secrets",
                "controls": ["nist-800-53-r5:SA-11"],
                "location": {"path": f"src/mod{n}.py", "start_line": 3},
            }
            for n in range(findings)
        ],
    }


def _page(findings: int = 75) -> str:
    posture = assess(_report(findings)).to_dict()
    posture["tool"] = {"name": "bastion", "version": "test"}
    return render_html(posture, None)


def test_every_finding_of_a_control_is_reachable_and_the_rest_fold() -> None:
    page = _page(75)
    for n in range(75):
        assert f"src/mod{n}.py:3" in page
    more = re.search(r"<details><summary>and (\d+) more</summary><ul>(.*?)</ul></details>", page)
    assert more is not None and int(more.group(1)) == 75 - SHOWN_FINDINGS
    assert more.group(2).count("<li>") == 75 - SHOWN_FINDINGS
    assert "and 0 more" not in _page(SHOWN_FINDINGS) and "more</summary>" not in _page(SHOWN_FINDINGS)


def test_passing_evidence_in_a_failing_control_carries_its_own_mark() -> None:
    page = _page(3)
    row = re.search(r'<tr class="control is-fail"><td><b>SA-11</b>.*?</tr>', page)
    assert row is not None
    assert (
        '<span class="mark pass" title="evidence pass">\u2713 pass</span> Secret scanning ran' in row.group(0)
    )
    assert '<span class="badge fail">fail</span>' in row.group(0)


def test_controls_fold_by_family_with_failing_families_first() -> None:
    page = _page(3)
    nist = page[page.index('<section id="nist-800-53-r5">') :]
    nist = nist[: nist.index("</section>")]
    families = re.findall(r'<details class="family (has-fail|no-fail)"><summary><b>([^<]+)</b>', nist)
    assert families[0] == ("has-fail", "SA"), families[:3]
    kinds = [kind for kind, _ in families]
    assert kinds == sorted(kinds), "every family with a failing control comes before the others"
    assert re.search(r"<details[^>]* open", nist) is None, "folded until someone opens a family"
    sa = nist[nist.index("<b>SA</b>") :]
    sa = sa[: sa.index("</details>")]
    statuses = re.findall(r'<tr class="control is-(fail|pass|na)"', sa)
    assert statuses[0] == "fail" and statuses == sorted(statuses, key=["fail", "pass", "na"].index)
    assert len(re.findall(r'<tr class="control ', nist)) > 100


def test_the_report_is_short_in_a_browser_and_a_family_opens(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    path = tmp_path / "report.html"
    path.write_text(_page(75), encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        page.goto(path.as_uri())
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 6000, height
        page.locator("details.family.has-fail summary").first.click()
        page.get_by_text(f"and {75 - SHOWN_FINDINGS} more").click()
        assert page.get_by_text("src/mod74.py:3").is_visible()
        browser.close()
