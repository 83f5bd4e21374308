"""`make run`'s dependency part: the demo app against the shipped advisory subset, no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo-app"
SUBSET = ROOT / "examples" / "advisories"


def test_demo_app_dependencies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(tmp_path / "advisories.sqlite3"))
    assert main(["db", "import", str(SUBSET / "osv")]) == 0
    assert main(["db", "import", "--kev", str(SUBSET / "kev.json")]) == 0
    capsys.readouterr()
    code = main(["scan", str(DEMO), "--scanners", "deps", "-f", "json", "--concurrency", "thread"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    by_rule = {(f["metadata"]["package"], f["rule_id"]): f for f in report["findings"]}
    struts = by_rule[("org.apache.struts:struts2-core", "deps.CVE-2017-5638")]
    assert struts["severity"] == "critical" and struts["metadata"]["kev"] is True
    assert struts["location"] == {
        "path": "pom.xml",
        "start_line": 11,
        "end_line": 11,
        "purl": "pkg:maven/org.apache.struts/struts2-core@2.3.31",
    }
    packages = {f["metadata"]["package"] for f in report["findings"]}
    assert {"Django", "PyYAML", "Jinja2", "urllib3", "requests", "flask", "lodash", "minimist"} <= packages
    assert all(f["metadata"]["fixed_versions"] for f in report["findings"])
