"""``bastion comply report`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.main import app, main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEMO_REPORT = FIXTURES / "comply" / "report-demo.json"


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["comply", "report", "--help"])
    assert result.exit_code == 0 and "Example: bastion comply report" in result.output
    result = CliRunner().invoke(app, ["comply", "--help"])
    assert "Example:" in result.output


def test_table_on_stdout_fails_when_a_control_fails() -> None:
    result = CliRunner().invoke(app, ["comply", "report", str(DEMO_REPORT), "--framework", "cis-v8"])
    assert result.exit_code == 1
    assert "CIS Controls v8" in result.output and "NIST SP" not in result.output


def test_json_and_html_to_files_with_history(tmp_path: Path) -> None:
    history = tmp_path / "posture"
    out = tmp_path / "p.json"
    args = ["comply", "report", str(DEMO_REPORT), "-f", "json", "-o", str(out), "--history", str(history)]
    assert main(args) == 1
    first = json.loads(out.read_text())
    assert set(first["frameworks"]) == {"nist-800-53-r5", "cis-v8", "iso27001-2022"}
    assert first["trend"]["previous"] is None
    page = tmp_path / "p.html"
    sbom = FIXTURES / "comply" / "bom.cdx.json"
    args = ["comply", "report", str(DEMO_REPORT), "-f", "html", "-o", str(page), "--history", str(history)]
    assert main([*args, "--sbom", str(sbom)]) == 1
    html = page.read_text()
    assert "Trend" in html and "CycloneDX 1.6 SBOM" in html
    assert len(list(history.glob("posture-*.json"))) == 2


def test_directory_is_scanned_first(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_ebs_volume" "v" {\n  encrypted = false\n}\n')
    (tmp_path / "bom.json").write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}')
    out = tmp_path / "p.json"
    assert main(["comply", "report", str(tmp_path), "-s", "iac", "-f", "json", "-o", str(out)]) == 1
    posture = json.loads(out.read_text())
    assert posture["scanners"] == ["iac"]
    assert {e["id"]: e["status"] for e in posture["evidence"]}["sbom-produced"] == "pass"
    nist = {c["id"]: c for c in posture["frameworks"]["nist-800-53-r5"]["controls"]}
    assert nist["SC-28"]["findings"][0]["rule_id"] == "iac.aws.ebs-volume-encrypted"


def test_clean_posture_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing to check\n")
    assert (
        main(["comply", "report", str(tmp_path), "-s", "iac", "-f", "json", "-o", str(tmp_path / "p.json")])
        == 0
    )


def test_bad_input_exits_two(tmp_path: Path) -> None:
    assert main(["comply", "report", str(tmp_path / "missing.json")]) == 2
    assert main(["comply", "report", str(DEMO_REPORT), "--framework", "soc2"]) == 2
    assert main(["comply", "report", str(DEMO_REPORT), "--format", "pdf"]) == 2
    assert main(["comply", "report", str(DEMO_REPORT), "--sbom", str(tmp_path / "none.json")]) == 2
    (tmp_path / "not-bom.json").write_text("{}")
    assert main(["comply", "report", str(DEMO_REPORT), "--sbom", str(tmp_path / "not-bom.json")]) == 2
    assert main(["comply", "report", str(DEMO_REPORT), "-o", str(tmp_path / "no" / "dir" / "x.txt")]) == 2
    (tmp_path / "file").write_text("x")
    assert main(["comply", "report", str(DEMO_REPORT), "--history", str(tmp_path / "file")]) == 2


def test_scanned_directory_config_cannot_hide_failing_controls_or_send_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "creds.py").write_text('token = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"\n')
    (tmp_path / "bastion.toml").write_text("[scanners.secrets]\nverify = true\n")
    code = main(["comply", "report", str(tmp_path), "--scanners", "secrets", "-f", "json"])
    assert code == 2
    assert "not accepted from the scanned directory's config" in capsys.readouterr().err
    (tmp_path / "bastion.toml").write_text('[scan]\nexclude = ["creds.py"]\n')
    code = main(["comply", "report", str(tmp_path), "--scanners", "secrets", "-f", "json"])
    out, err = capsys.readouterr()
    assert "not applied: scan.exclude" in err
    assert "creds.py" in out  # the excluded file was scanned after all: its finding counts
