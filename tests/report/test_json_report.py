"""The JSON report: its published schema holds, and findings round-trip losslessly."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bastion.findings import Finding
from bastion.gate import GateResult
from bastion.report import json_report


def schema() -> dict[str, Any]:
    """The schema shipped inside the package (what users get with the wheel)."""
    text = resources.files("bastion.report").joinpath("schemas/bastion-report.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validator() -> jsonschema.Draft202012Validator:
    """A 2020-12 validator with format checks on."""
    return jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def document(result: GateResult) -> dict[str, Any]:
    """Render and parse back."""
    parsed: dict[str, Any] = json.loads(json_report.render(result))
    return parsed


def test_schema_is_valid_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_output_validates(case: tuple[str, GateResult]) -> None:
    _, result = case
    errors = list(validator().iter_errors(document(result)))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("top-level extra field", lambda d: d.update(extra=1)),
        ("finding extra field", lambda d: d["findings"][0].update(extra=1)),
        ("finding missing fingerprint", lambda d: d["findings"][0].pop("fingerprint")),
        ("unknown severity", lambda d: d["findings"][0].update(severity="severe")),
        ("location extra field", lambda d: d["findings"][0]["location"].update(line=3)),
        ("summary missing count", lambda d: d["summary"]["by_severity"].pop("info")),
        ("suppressed without reason", lambda d: d["suppressed"][0].pop("reason")),
        ("unknown notice kind", lambda d: d["notices"][0].update(kind="weird")),
        ("cwe as string", lambda d: d["findings"][0].update(cwe=["CWE-79"])),
    ],
)
def test_schema_rejects_near_misses(full: GateResult, where: str, change: Any) -> None:
    doc = document(full)
    change(doc)
    assert not validator().is_valid(doc), where


def test_findings_round_trip(full: GateResult) -> None:
    doc = document(full)
    assert [Finding.from_dict(d) for d in doc["findings"]] == full.findings
    assert [Finding.from_dict(d) for d in doc["baselined"]] == full.baselined
    assert [Finding.from_dict(s["finding"]) for s in doc["suppressed"]] == [
        s.finding for s in full.suppressed
    ]


def test_target_and_summary(full: GateResult) -> None:
    doc = document(full)
    assert doc["target"] == "project"  # never the scanning machine's absolute path
    assert doc["summary"]["total"] == len(full.findings)
    assert doc["summary"]["blocking"] == 3
    assert doc["summary"]["failed"] is True


def test_streamed_text_is_the_whole_document_one_item_per_line(case: tuple[str, GateResult]) -> None:
    """The report written chunk by chunk is the document, each finding on a line of its own."""
    _, result = case
    text = "".join(json_report.chunks(result))
    assert text == json_report.render(result)
    document = json_report.to_document(result)
    assert json.loads(text) == document
    lines = text.splitlines()
    for finding in document["findings"]:
        assert "    " + json.dumps(finding) in {line.rstrip(",") for line in lines}


def test_target_is_relative_to_the_repository(full: GateResult, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    full.scan.root = tmp_path / "services" / "api"
    full.scan.root.mkdir(parents=True)
    assert document(full)["target"] == "services/api"
    full.scan.root = tmp_path
    assert document(full)["target"] == "."
    full.scan.root = Path("relative/dir")
    assert document(full)["target"] == "relative/dir"
