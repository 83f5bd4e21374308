"""``bastion import`` and ``bastion upload --tool`` through the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from server_world import Live, build_world, serve_in_thread
from sqlalchemy import select
from store_backends import open_store
from typer.testing import CliRunner

from bastion.cli import imports as cli_imports
from bastion.cli.imports import prepare_upload
from bastion.cli.main import app, main
from bastion.store.models import FindingRecord
from bastion.store.parse import parse_upload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IMPORTS = FIXTURES / "imports"
TRIVY = IMPORTS / "trivy/misconfigurations_and_secrets.json"
GITLEAKS = IMPORTS / "gitleaks/gitleaks8_many.json"
REPORT_SCHEMA = Path(__file__).resolve().parents[2] / "src/bastion/report/schemas/bastion-report.schema.json"
runner = CliRunner()


def test_help_has_an_example_and_lists_the_tools() -> None:
    result = runner.invoke(app, ["import", "--help"])
    assert (
        result.exit_code == 0 and "Example: bastion import" in result.output and "trufflehog" in result.output
    )
    upload = runner.invoke(app, ["upload", "--help"])
    assert upload.exit_code == 0 and "--tool" in upload.output


def test_json_report_on_stdout_is_a_valid_bastion_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(TRIVY)]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    jsonschema.validate(document, json.loads(REPORT_SCHEMA.read_text()))
    assert document["scanners"] == ["trivy"] and document["summary"]["total"] == 5
    assert {f["rule_id"] for f in document["findings"]} >= {"trivy.CVE-2021-33503", "trivy.DS002"}
    assert "trivy report, 5 findings" in captured.err


def test_sarif_output_validates(tmp_path: Path) -> None:
    out = tmp_path / "grype.sarif"
    assert (
        main(["import", str(IMPORTS / "grype/TestJsonDirsPresenter.json"), "-o", str(out), "-f", "sarif"])
        == 0
    )
    log = json.loads(out.read_text())
    jsonschema.validate(log, json.loads((FIXTURES / "schemas/sarif-schema-2.1.0.json").read_text()))
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"grype.CVE-1999-0001", "grype.CVE-1999-0002"}


def test_suppressed_and_skipped_are_in_the_report(tmp_path: Path) -> None:
    out = tmp_path / "vex.json"
    assert main(["import", str(IMPORTS / "cyclonedx/vex.json"), "-o", str(out), "-q"]) == 0
    document = json.loads(out.read_text())
    assert document["suppressed"][0]["reason"].startswith("VEX not_affected")
    out = tmp_path / "pip.json"
    result = runner.invoke(app, ["import", str(IMPORTS / "pip-audit/many_vulns_new.json"), "-o", str(out)])
    assert result.exit_code == 0 and "skipped pip-audit:azure-devops" in result.output
    assert json.loads(out.read_text())["skipped"][0]["component"] == "pip-audit:azure-devops"


def test_fail_on_sets_the_exit_code() -> None:
    assert main(["import", str(TRIVY), "--fail-on", "critical", "-q", "-o", "/dev/null"]) == 1
    assert (
        main(
            ["import", str(IMPORTS / "nuclei/multiple_v3.jsonl"), "--fail-on", "low", "-q", "-o", "/dev/null"]
        )
        == 0
    )
    result = runner.invoke(app, ["import", str(TRIVY), "--fail-on", "severe"])
    assert result.exit_code == 2 and "--fail-on" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["missing.json"], "missing.json: not found"),
        (["."], "is a directory"),
        ([str(TRIVY), "--tool", "nessus"], "unknown tool 'nessus'"),
        ([str(TRIVY), "--tool", "gitleaks"], "not Gitleaks output (it looks like trivy)"),
    ],
)
def test_usage_and_input_errors_exit_2_in_one_line(args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["import", *args])
    assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output
    assert result.output.count("error:") == 1


def test_broken_file_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_bytes(TRIVY.read_bytes()[:500])
    result = runner.invoke(app, ["import", str(broken)])
    assert (
        result.exit_code == 2
        and f"{broken}: not valid JSON" in result.output
        and "Traceback" not in result.output
    )


def test_prepare_upload_passes_native_reports_through_and_converts_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    native = json.dumps({"version": "2.1.0", "runs": []}).encode()
    assert prepare_upload(native, "x.sarif", None) is native
    monkeypatch.setattr(cli_imports, "MAX_BYTES", 10)
    huge = b'{"runs": [], "version": "2.1.0"}'
    assert prepare_upload(huge, "huge.sarif", None) is huge  # too large to convert: the server judges it
    monkeypatch.undo()
    converted = prepare_upload(TRIVY.read_bytes(), "trivy.json", None)
    parsed = parse_upload(converted, "trivy.json")  # what the server does with the upload
    assert parsed.source_format == "bastion" and parsed.scanners == ["trivy"]
    assert len(parsed.findings) == 5 and all(f.rule_id.startswith("trivy.") for f in parsed.findings)
    assert parsed.coverage.complete


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Live]:
    """A live server over SQLite."""
    store = open_store("sqlite", tmp_path, None)
    yield from serve_in_thread(build_world(store))
    store.close()


def test_upload_with_tool_stores_findings_without_secrets(server: Live) -> None:
    token = server.world.demo_token
    upload = ["upload", "--url", server.url, "--token", token]
    first = runner.invoke(app, [*upload, str(TRIVY), "--tool", "trivy"])
    assert first.exit_code == 0, first.output
    assert "5 findings, 5 new" in first.output
    leaks = runner.invoke(app, [*upload, str(GITLEAKS)])  # the tool detected
    assert leaks.exit_code == 0 and "4 findings, 4 new" in leaks.output, leaks.output
    again = runner.invoke(app, [*upload, str(GITLEAKS)])
    assert "4 findings, 0 new" in again.output  # stable fingerprints: the server knows them
    with server.world.store.read() as session:
        rows = session.scalars(select(FindingRecord)).all()
        stored = json.dumps([{k: str(v) for k, v in vars(r).items() if not k.startswith("_")} for r in rows])
    assert {r.rule_id.split(".")[0] for r in rows} == {"trivy", "gitleaks"}
    for leak in json.loads(GITLEAKS.read_text()):
        assert leak["Secret"] not in stored


def test_help_constants_follow_the_package() -> None:
    from bastion.cli import imports as cli_imports
    from bastion.imports import decode, tool_names

    assert ", ".join(tool_names()) == cli_imports.TOOLS
    assert cli_imports.MAX_BYTES == decode.MAX_BYTES


def test_unknown_package_attribute() -> None:
    import bastion.imports

    with pytest.raises(AttributeError, match="no attribute 'parse'"):
        bastion.imports.parse  # noqa: B018
