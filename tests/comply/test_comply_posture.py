"""Posture: pass, fail, not assessed; evidence; scores; history; HTML."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion.comply.history import load_history, save_run, trend
from bastion.comply.html import render_html
from bastion.comply.posture import assess, read_report, sbom_evidence
from bastion.comply.render import render_json, render_table
from bastion.errors import InputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comply"
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def _controls(posture: dict, framework: str) -> dict[str, dict]:
    return {c["id"]: c for c in posture["frameworks"][framework]["controls"]}


@pytest.fixture(scope="module")
def demo() -> dict:
    return assess(read_report(FIXTURES / "report-demo.json"), now=NOW).to_dict()


def test_findings_fail_their_controls(demo: dict) -> None:
    nist = _controls(demo, "nist-800-53-r5")
    assert nist["SC-28"]["status"] == "fail"
    assert any(f["rule_id"] == "iac.aws.rds-encrypted" for f in nist["SC-28"]["findings"])
    cis = _controls(demo, "cis-v8")
    assert cis["3.11"]["status"] == "fail" and cis["3.11"]["title"] == "Encrypt stored data"


def test_controls_of_scanners_that_did_not_run_are_not_assessed(demo: dict) -> None:
    nist = _controls(demo, "nist-800-53-r5")
    assert nist["CA-8"]["status"] == "not assessed"  # only dast evidence maps there
    assert nist["PE-3"]["status"] == "not assessed"  # physical: nothing maps


def test_process_evidence_passes_controls(demo: dict) -> None:
    evidence = {e["id"]: e["status"] for e in demo["evidence"]}
    assert evidence["secret-scanning-ran"] == "pass"
    assert evidence["dependency-scan-fresh-database"] == "not assessed"
    assert evidence["sbom-produced"] == "not assessed"
    nist = _controls(demo, "nist-800-53-r5")
    assert nist["CA-7"]["status"] == "pass"
    assert any("Secret scanning ran" in e for e in nist["CA-7"]["evidence"])


def test_scores_add_up(demo: dict) -> None:
    for body in demo["frameworks"].values():
        summary = body["summary"]
        statuses = [c["status"] for c in body["controls"]]
        assert summary["pass"] == statuses.count("pass") and summary["fail"] == statuses.count("fail")
        assert summary["score"] == round(100 * summary["pass"] / (summary["pass"] + summary["fail"]), 1)
        assert sum(f["pass"] for f in body["families"].values()) == summary["pass"]


def test_stale_database_fails_its_evidence_and_skipped_scanners_do_not_count() -> None:
    report = read_report(FIXTURES / "report-deps-stale.json")
    sbom = sbom_evidence(FIXTURES / "bom.cdx.json")
    assert sbom == "CycloneDX 1.6 SBOM bom.cdx.json with 1 components"
    posture = assess(report, ["nist-800-53-r5"], [sbom], now=NOW).to_dict()
    evidence = {e["id"]: (e["status"], e["detail"]) for e in posture["evidence"]}
    assert evidence["dependency-scan-fresh-database"][0] == "fail"
    assert "40 days old" in evidence["dependency-scan-fresh-database"][1]
    assert evidence["sast-ran"][0] == "not assessed" and evidence["dast-ran"][0] == "not assessed"
    assert evidence["sbom-produced"][0] == "pass"
    nist = _controls(posture, "nist-800-53-r5")
    assert (
        nist["RA-5"]["status"] == "fail" and nist["RA-5"]["findings"][0]["rule_id"] == "deps.CVE-2023-32681"
    )
    assert nist["CM-8"]["status"] == "pass"
    assert posture["scanners"] == ["deps"]
    assert list(posture["frameworks"]) == ["nist-800-53-r5"]


def test_bad_reports_are_refused(tmp_path: Path) -> None:
    cases = [("{", r"r\.json: scan report is not valid JSON"), ('{"a": 1}', "not a Bastion scan report")]
    for text, message in cases:
        (tmp_path / "r.json").write_text(text)
        with pytest.raises(InputError, match=message):
            read_report(tmp_path / "r.json")
    with pytest.raises(InputError, match=r"missing\.json: scan report not found"):
        read_report(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text('{"bomFormat": "SPDX"}')
    assert sbom_evidence(tmp_path / "x.json") is None
    assert sbom_evidence(tmp_path / "missing.json") is None


def test_history_shows_regressions_and_fixes(tmp_path: Path, demo: dict) -> None:
    first = json.loads(json.dumps(demo))
    for control in first["frameworks"]["cis-v8"]["controls"]:
        if control["id"] == "3.11":
            control["status"] = "pass"
        if control["id"] == "13.6":
            control["status"] = "fail"
    saved = save_run(tmp_path / "hist", first)
    again = save_run(tmp_path / "hist", first)
    assert saved != again and again.name.endswith("-1.json")
    (tmp_path / "hist" / "notes.txt").write_text("ignored")
    runs = load_history(tmp_path / "hist")
    assert len(runs) == 2
    changes = trend(runs, demo)
    assert changes.regressed["cis-v8"] == ["3.11"]
    assert "13.6" in changes.fixed["cis-v8"]
    assert [p["scores"]["cis-v8"] for p in changes.points][-1] == demo["frameworks"]["cis-v8"]["summary"][
        "score"
    ]
    assert load_history(tmp_path / "none") == []
    (tmp_path / "hist" / "posture-20260101T000000Z.json").write_text("{")
    with pytest.raises(InputError, match=r"posture-20260101T000000Z\.json: posture file is not valid JSON"):
        load_history(tmp_path / "hist")
    with pytest.raises(InputError, match="must be a directory"):
        load_history(tmp_path / "hist" / "notes.txt")


def test_html_is_self_contained_and_escaped(demo: dict, tmp_path: Path) -> None:
    hostile = json.loads(json.dumps(demo))
    hostile["target"] = "<script>alert(1)</script>"
    save_run(tmp_path, demo)
    page = render_html(hostile, trend(load_history(tmp_path), demo))
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 4
    assert "<script" not in page and "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<style>" in page and "Trend" in page
    # The trend is the shared chart, coloured by the page's own style block.
    assert '<polyline class="line fw-cis-v8"' in page and "svg.chart .fw-cis-v8{stroke:" in page


def test_table_and_json_renderings(demo: dict) -> None:
    import io

    buffer = io.StringIO()
    changes = trend([demo], demo)
    render_table(demo, changes, buffer)
    text = buffer.getvalue()
    assert "NIST SP 800-53 Rev. 5" in text and "no control changed status" in text
    assert "iac.aws.rds-encrypted" in text
    document = json.loads(render_json(demo, changes))
    assert document["trend"]["previous"] == demo["generated"]
