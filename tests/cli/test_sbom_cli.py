"""``bastion sbom`` and ``bastion scan --sbom`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.cli.main import main

TESTS = Path(__file__).resolve().parents[1]
DEPS = TESTS / "fixtures" / "deps"
ADVISORIES = TESTS / "fixtures" / "advisories"


def test_sbom_then_scan_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(tmp_path / "adv.sqlite3"))
    assert main(["db", "import", str(ADVISORIES / "osv")]) == 0
    assert main(["db", "import", "--kev", str(ADVISORIES / "kev.json")]) == 0
    for fmt, name in (("cyclonedx", "bom.json"), ("spdx", "bom.spdx.json")):
        out = tmp_path / name
        assert main(["sbom", str(DEPS / "java" / "multi"), "-o", str(out), "--format", fmt]) == 0
        assert "wrote " in capsys.readouterr().err
        code = main(["scan", "--sbom", str(out), "--fail-on", "kev", "-f", "json", "--concurrency", "thread"])
        report = json.loads(capsys.readouterr().out)
        assert code == 1
        struts = next(f for f in report["findings"] if f["rule_id"] == "deps.CVE-2017-5638")
        assert struts["location"]["path"] == name and struts["severity"] == "critical"


def test_sbom_to_stdout_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sbom", str(DEPS / "go"), "-q"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["specVersion"] == "1.6" and err == ""
    assert main(["sbom", str(DEPS), "--format", "xml"]) == 2
    assert "--format: choose from cyclonedx, spdx" in capsys.readouterr().err
    assert main(["sbom", str(tmp_path / "missing")]) == 2
    assert main(["sbom", str(DEPS / "go"), "-o", str(tmp_path / "no" / "such" / "dir" / "bom.json")]) == 2
    assert "cannot write SBOM" in capsys.readouterr().err
    assert main(["scan", "--sbom", str(tmp_path / "missing.json")]) == 2
    assert "SBOM file not found" in capsys.readouterr().err


def test_sbom_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sbom", "--help"]) == 0
    assert "Example: bastion sbom" in capsys.readouterr().out
