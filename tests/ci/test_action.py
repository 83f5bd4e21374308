"""The composite action (action.yml), run step by step as a GitHub runner would, and the example
workflow, both validated against SchemaStore's published schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pipeline_helpers import REPO, evaluate, make_workspace, run_action, stripe_key

SCHEMAS = REPO / "tests" / "fixtures" / "schemas"
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return _load(REPO / "action.yml")


def test_action_and_workflow_match_schemastore(action: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / "github-action.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(action)
    workflow = _load(REPO / "ci" / "github" / "bastion.yml")
    schema = json.loads((SCHEMAS / "github-workflow.schema.json").read_text(encoding="utf-8"))
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on".
    workflow["on"] = workflow.pop(True)
    jsonschema.Draft7Validator(schema).validate(workflow)
    assert workflow["permissions"] == {}


def test_third_party_actions_are_pinned_by_sha(action: dict[str, Any]) -> None:
    workflow = (REPO / "ci" / "github" / "bastion.yml").read_text(encoding="utf-8")
    uses = [s["uses"] for s in action["runs"]["steps"] if "uses" in s]
    uses += re.findall(r"^\s*-?\s*uses:\s*([^\s#]+)", workflow, flags=re.MULTILINE)
    for ref in uses:
        assert ref == "./" or SHA_PIN.match(ref), ref


def test_no_expression_inside_a_script(action: dict[str, Any]) -> None:
    # Inputs reach scripts through env only: ${{ }} in `run` is a script-injection hole.
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")


@pytest.mark.slow  # runs bastion as the CI system would: several processes
def test_failing_scan_uploads_sarif_writes_summary_and_fails_by_the_gate(
    action: dict[str, Any], tmp_path: Path, advisory_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(advisory_db))
    workspace = make_workspace(tmp_path / "ws")
    inputs = {"install": "false", "scanners": "secrets,deps,iac", "args": "--concurrency thread"}
    run = run_action(action, workspace, inputs, tmp_path)
    assert run.ran == ["Scan", "Gate"], run.logs
    assert run.exit_code == 1, run.logs
    assert run.outputs["scan"]["exit-code"] == "1"
    ((upload, with_),) = run.uses
    assert upload.startswith("github/codeql-action/upload-sarif@")
    sarif_path = workspace / with_["sarif_file"]
    sarif = json.loads(sarif_path.read_text(encoding="utf-8"))
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(sarif)
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert "secrets.stripe-live-secret-key" in rules and any(r.startswith("deps.CVE-") for r in rules)
    summary = run.logs.split("--- step summary ---", 1)[1]
    assert "## Bastion: ❌ gate failed" in summary
    assert "secrets.stripe-live-secret-key" in summary
    assert stripe_key() not in summary and stripe_key() not in sarif_path.read_text(encoding="utf-8")
    assert "findings at or above the fail-on threshold" in run.logs


@pytest.mark.slow  # runs bastion as the CI system would: several processes
def test_clean_workspace_passes(
    action: dict[str, Any], tmp_path: Path, advisory_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASTION_ADVISORY_DB", str(advisory_db))
    workspace = make_workspace(tmp_path / "ws", secret=False, vulnerable=False)
    inputs = {"install": "false", "scanners": "secrets,deps,iac", "upload-sarif": "false", "summary": "false"}
    run = run_action(action, workspace, inputs, tmp_path)
    assert run.exit_code == 0, run.logs
    assert run.uses == []
    assert "Bastion: gate passed" in run.logs
    assert (workspace / "bastion.sarif").is_file()


@pytest.mark.slow  # runs bastion as the CI system would: several processes
def test_scan_error_is_exit_2_not_a_pass(action: dict[str, Any], tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", secret=False, vulnerable=False)
    run = run_action(action, workspace, {"install": "false", "path": "missing-dir"}, tmp_path)
    assert run.exit_code == 2, run.logs
    assert "wrote no report" in run.logs


def test_condition_interpreter_refuses_what_it_does_not_know() -> None:
    context = {"inputs": {"a": "true"}, "steps": {}}
    assert evaluate("inputs.a == 'true'", context)
    assert not evaluate("always() && inputs.a != 'true'", context)
    with pytest.raises(ValueError, match="unsupported"):
        evaluate("contains(inputs.a, 'x')", context)


@pytest.mark.slow  # runs bastion as the CI system would: several processes
def test_coverage_gate_in_the_action(action: dict[str, Any], tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", secret=False, vulnerable=False)
    (workspace / "cov.lcov").write_text("SF:app.py\nDA:1,1\nDA:2,0\nend_of_record\n", encoding="utf-8")
    inputs = {"install": "false", "scanners": "secrets", "coverage-report": "cov.lcov", "coverage-min": "80"}
    run = run_action(action, workspace, inputs, tmp_path)
    assert run.ran == ["Scan", "Coverage gate", "Gate"], run.logs
    assert run.exit_code == 1, run.logs
    assert run.outputs["coverage"]["exit-code"] == "1"
    categories = sorted(with_["category"] for _, with_ in run.uses)
    assert categories == ["bastion", "bastion-coverage"]
    # Those inputs only fill in a run without automationDetails: the SARIF's own must differ too,
    # or the coverage upload would close the scan's alerts.
    assert _category(workspace / "bastion.sarif") == "bastion"
    assert _category(workspace / "bastion-coverage.sarif") == "bastion/analysis:coverage"
    assert "coverage.overall-below-min" in (workspace / "bastion-coverage.sarif").read_text(encoding="utf-8")
    summary = run.logs.split("--- step summary ---", 1)[1]
    assert "### Coverage" in summary and "coverage.overall-below-min" in summary
    assert "coverage below the minimum" in run.logs
    passing = run_action(action, workspace, {**inputs, "coverage-min": "50"}, tmp_path / "again")
    assert passing.exit_code == 0, passing.logs


@pytest.mark.slow  # runs bastion as the CI system would: several processes
def test_stage_input_applies_a_pipeline_stage(action: dict[str, Any], tmp_path: Path) -> None:
    # The commit stage scans only staged lines: a secret committed earlier is not its business
    # (the whole-tree stage, build, finds it).
    workspace = make_workspace(tmp_path / "ws", vulnerable=False)
    commit = run_action(action, workspace, {"install": "false", "stage": "commit"}, tmp_path / "commit")
    assert commit.exit_code == 0, commit.logs
    build = run_action(
        action, workspace, {"install": "false", "stage": "build", "scanners": "secrets"}, tmp_path / "build"
    )
    assert build.exit_code == 1, build.logs
    assert _category(workspace / "bastion.sarif") == "bastion/stage:build"


def _category(sarif_path: Path) -> str:
    """The code-scanning category of a SARIF file (its run's automationDetails.id up to the last /)."""
    run = json.loads(sarif_path.read_text(encoding="utf-8"))["runs"][0]
    category: str = run["automationDetails"]["id"].rsplit("/", 1)[0]
    return category
