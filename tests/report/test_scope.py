"""The ``scope`` a report carries: where the run looked, which scanners ran fully (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.report.scope import repository_root, scan_scope
from bastion.results import Notice, NoticeKind, ScannerFailure, ScanResult, Skip

runner = CliRunner()


def test_statuses_and_roots(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "svc" / "api").mkdir(parents=True)
    result = ScanResult(
        root=repo / "svc" / "api",
        scanners=["secrets", "deps", "sast", "iac", "dast"],
        skips=[Skip("deps", "no database"), Skip("sast.semgrep", "missing"), Skip("iac main.tf", "bad HCL")],
        failures=[ScannerFailure("dast", "boom")],
        notices=[Notice(NoticeKind.TOO_LARGE, "big", "a.env", "secrets")],
        excludes=("vendor/",),
        history="staged",
    )
    scope = scan_scope(result)
    assert scope is not None and scope["root"] == "svc/api" and scope["repository"] is True
    assert scope["excludes"] == ["vendor/"] and scope["history"] == "staged"
    assert {name: s["status"] for name, s in scope["scanners"].items()} == {
        "secrets": "partial",
        "deps": "skipped",
        "sast": "partial",
        "iac": "partial",
        "dast": "failed",
    }
    assert repository_root(repo / "svc") == repo
    outside = ScanResult(root=tmp_path, scanners=[])
    assert scan_scope(outside) is not None and scan_scope(outside)["repository"] in (True, False)


def test_a_converted_report_claims_no_scope(tmp_path: Path) -> None:
    report = tmp_path / "trivy.json"
    report.write_text("{}")
    assert scan_scope(ScanResult(root=report, scanners=["trivy"])) is None


def test_a_single_file_scan_excludes_everything_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    target = tmp_path / "sub" / "req[1].txt"
    target.parent.mkdir()
    target.write_text("django==1.11.0\n")
    result = runner.invoke(app, ["scan", str(target), "-s", "secrets", "-f", "json"])
    assert result.exit_code == 0, result.output
    scope = json.loads(result.output)["scope"]
    assert scope["root"] == "sub" and scope["excludes"] == ["*", "!/req\\[1\\].txt"]
