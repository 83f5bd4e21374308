"""SARIF: valid against the official 2.1.0 schema and carrying what GitHub code scanning reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bastion.findings import Location, Severity
from bastion.gate import GateResult
from bastion.report import sarif

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "fixtures" / "schemas" / "sarif-schema-2.1.0.json").read_text(
        encoding="utf-8"
    )
)


def document(result: GateResult) -> dict[str, Any]:
    """Render and parse back, so the test sees exactly what is written."""
    parsed: dict[str, Any] = json.loads(sarif.render(result))
    return parsed


def run_of(result: GateResult) -> dict[str, Any]:
    """The one run."""
    runs = document(result)["runs"]
    assert len(runs) == 1
    run: dict[str, Any] = runs[0]
    return run


def results_by_rule(result: GateResult) -> dict[str, dict[str, Any]]:
    """Results keyed by rule id (each rule occurs once in the fixtures)."""
    return {r["ruleId"]: r for r in run_of(result)["results"]}


def test_schema_itself_is_valid_draft4() -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def test_output_validates_against_official_schema(case: tuple[str, GateResult]) -> None:
    _, result = case
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document(result)), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_schema_validation_catches_a_broken_log(full: GateResult) -> None:
    doc = document(full)
    doc["runs"][0]["results"][0]["level"] = "fatal"
    assert not jsonschema.Draft4Validator(SCHEMA).is_valid(doc)


def test_driver_carries_github_fields(full: GateResult, pinned_version: str) -> None:
    doc = document(full)
    assert doc["version"] == "2.1.0"
    assert doc["$schema"] == sarif.SCHEMA_URI
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "bastion"
    assert driver["version"] == driver["semanticVersion"] == pinned_version
    assert driver["informationUri"].startswith("https://")


def test_one_rule_per_distinct_rule_id_with_index(full: GateResult) -> None:
    run = run_of(full)
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    expected = {f.rule_id for f in full.findings} | {s.finding.rule_id for s in full.suppressed}
    assert ids == sorted(expected)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_rule_has_github_properties(full: GateResult) -> None:
    rules = {r["id"]: r for r in run_of(full)["tool"]["driver"]["rules"]}
    aws = rules["secrets.aws-access-key"]
    assert aws["shortDescription"]["text"] == "AWS access key"
    assert aws["fullDescription"]["text"]
    assert aws["help"]["text"] == "Revoke the key in IAM, then load it from the environment"
    assert "**Fix:**" in aws["help"]["markdown"]
    assert aws["helpUri"] == "https://docs.example.org/rules/secrets.aws-access-key"
    assert aws["defaultConfiguration"] == {"level": "error"}
    assert aws["properties"] == {
        "security-severity": "9.5",
        "tags": ["security", "external/cwe/cwe-798"],
        "precision": "high",
    }
    assert rules["deps.GHSA-j8r2-6x86-q33q"]["properties"]["tags"] == [
        "security",
        "external/cwe/cwe-200",
        "external/cwe/cwe-669",
    ]
    assert rules["sast.bandit.B602"]["properties"]["precision"] == "medium"
    assert "helpUri" not in rules["iac.aws.s3-bucket-encryption"]


def test_rule_takes_the_worst_severity_of_its_findings(full: GateResult) -> None:
    worse = full.findings[3].with_changes(severity=Severity.CRITICAL, fingerprint="other")
    full.findings.append(worse)
    rules = {r["id"]: r for r in run_of(full)["tool"]["driver"]["rules"]}
    assert rules["iac.aws.s3-bucket-encryption"]["properties"]["security-severity"] == "9.5"


@pytest.mark.parametrize(
    ("severity", "level", "score"),
    [
        (Severity.CRITICAL, "error", "9.5"),
        (Severity.HIGH, "error", "8.0"),
        (Severity.MEDIUM, "warning", "5.5"),
        (Severity.LOW, "note", "3.0"),
        (Severity.INFO, "note", "0.0"),
    ],
)
def test_severity_maps_to_level_and_score(severity: Severity, level: str, score: str) -> None:
    assert sarif.LEVEL[severity] == level
    assert sarif.SECURITY_SEVERITY[severity] == score
    assert 0.0 <= float(score) <= 10.0


def test_file_result_has_region_fingerprint_and_properties(full: GateResult) -> None:
    result = results_by_rule(full)["secrets.aws-access-key"]
    assert result["level"] == "error"
    assert result["message"]["text"] == "AWS access key id committed to the repository"
    assert result["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "src/config.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 3, "endLine": 3, "startColumn": 11, "endColumn": 31},
            }
        }
    ]
    assert result["partialFingerprints"] == {"bastionFingerprint/v1": full.findings[0].fingerprint}
    assert result["properties"]["severity"] == "critical"
    assert result["properties"]["scanner"] == "secrets"
    assert result["properties"]["controls"] == list(full.findings[0].controls)
    assert "suppressions" not in result
    assert "baselineState" not in result


def test_region_leaves_out_unset_columns(full: GateResult) -> None:
    region = results_by_rule(full)["sast.bandit.B602"]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 12, "endLine": 14}


def test_url_location_is_absolute_without_base(full: GateResult) -> None:
    location = results_by_rule(full)["dast.csp-missing"]["locations"][0]
    assert location == {
        "physicalLocation": {"artifactLocation": {"uri": "https://app.example.com/login?next=%2F&lang=en"}}
    }


def test_purl_is_a_logical_location_next_to_the_lockfile(full: GateResult) -> None:
    with_file = results_by_rule(full)["deps.GHSA-j8r2-6x86-q33q"]["locations"][0]
    assert with_file["physicalLocation"]["artifactLocation"] == {
        "uri": "poetry.lock",
        "uriBaseId": "%SRCROOT%",
    }
    assert with_file["logicalLocations"] == [
        {"fullyQualifiedName": "pkg:pypi/requests@2.19.0", "kind": "package"}
    ]
    alone = results_by_rule(full)["deps.GHSA-c2qf-rxjj-qqgw"]["locations"][0]
    assert alone["physicalLocation"] == {"artifactLocation": {"uri": "pkg:npm/semver@5.7.1"}}
    assert alone["logicalLocations"][0]["fullyQualifiedName"] == "pkg:npm/semver@5.7.1"


def test_every_result_has_an_artifact_uri_as_github_requires(full: GateResult) -> None:
    full.findings.append(
        full.findings[0].with_changes(location=Location(commit="abc123"), fingerprint="nowhere")
    )
    for result in run_of(full)["results"]:
        assert len(result["locations"]) == 1
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    [nowhere] = [
        r["locations"][0]
        for r in run_of(full)["results"]
        if r["partialFingerprints"]["bastionFingerprint/v1"] == "nowhere"
    ]
    assert nowhere == {"physicalLocation": {"artifactLocation": {"uri": ".", "uriBaseId": "%SRCROOT%"}}}


def test_odd_path_is_percent_encoded_and_text_kept(full: GateResult) -> None:
    result = results_by_rule(full)["sast.semgrep.odd-text"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "src/na%C3%AFve%20dir/%C3%BCn%C3%AF%20%231.py"
    assert result["message"]["text"] == full.findings[-1].message
    assert result["properties"]["commit"] == full.findings[-1].location.commit


def test_suppressed_finding_is_a_suppressed_result(full: GateResult) -> None:
    result = results_by_rule(full)["sast.bandit.B105"]
    assert result["suppressions"] == [
        {"kind": "inSource", "justification": "test fixture, not a real password"}
    ]


def test_suppression_without_reason_has_no_justification(full: GateResult) -> None:
    full.suppressed[0] = type(full.suppressed[0])(full.suppressed[0].finding, "")
    assert results_by_rule(full)["sast.bandit.B105"]["suppressions"] == [{"kind": "inSource"}]


def test_baselined_findings_are_left_out(full: GateResult) -> None:
    assert "secrets.generic-api-key" not in results_by_rule(full)
    assert len(run_of(full)["results"]) == len(full.findings) + len(full.suppressed)


def test_src_root_names_no_path_of_the_scanning_machine(full: GateResult) -> None:
    [base] = run_of(full)["originalUriBaseIds"].values()
    assert "uri" not in base
    assert "/src/project" not in sarif.render(full)


def test_invocation_reports_skips_notices_and_success(full: GateResult) -> None:
    invocation = run_of(full)["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notes = invocation["toolExecutionNotifications"]
    assert [(n["descriptor"]["id"], n["level"]) for n in notes] == [
        ("bastion.skip", "warning"),
        ("bastion.notice.encoding", "note"),
        ("bastion.notice.binary", "note"),
    ]
    assert notes[0]["message"]["text"] == "skipped sast.semgrep: semgrep not installed"
    assert notes[2]["message"]["text"] == "2 binary files skipped"


def test_scanner_failure_makes_execution_unsuccessful(crashed: GateResult) -> None:
    invocation = run_of(crashed)["invocations"][0]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["message"]["text"] == "scanner iac failed: RuntimeError: policy engine exploded"


def test_clean_run_has_empty_results_and_rules(clean: GateResult) -> None:
    run = run_of(clean)
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_subfolder_scan_uris_are_relative_to_the_repository_root(full: GateResult, tmp_path: Path) -> None:
    """A scan of services/api in a git work tree: GitHub resolves URIs against the checkout."""
    (tmp_path / ".git").mkdir()
    full.scan.root = tmp_path / "services" / "api"
    full.scan.root.mkdir(parents=True)
    run = run_of(full)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert {"uri": "services/api/src/config.py", "uriBaseId": "%SRCROOT%"} in uris
    assert str(tmp_path) not in sarif.render(full)
    assert run["properties"]["bastionScope"]["root"] == "services/api"


def test_top_of_repository_scan_keeps_plain_relative_uris(full: GateResult, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    full.scan.root = tmp_path
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run_of(full)["results"]]
    assert {"uri": "src/config.py", "uriBaseId": "%SRCROOT%"} in uris


def test_automation_details_category_per_scanned_folder(full: GateResult, tmp_path: Path) -> None:
    """GitHub keeps alerts per category (the id up to its last slash): one per scanned folder."""
    (tmp_path / ".git").mkdir()
    full.scan.root = tmp_path / "services" / "api"
    full.scan.root.mkdir(parents=True)
    api = run_of(full)["automationDetails"]
    category, run_id = api["id"].rsplit("/", 1)
    assert category == "bastion/services/api"
    assert re.fullmatch(r"[0-9a-f]{16}", run_id)
    assert api["description"]["text"] == "Bastion scan of services/api"
    full.scan.root = tmp_path
    whole = run_of(full)["automationDetails"]["id"]
    assert whole.rsplit("/", 1)[0] == "bastion" and whole.rsplit("/", 1)[1] != run_id
    assert run_of(full)["automationDetails"]["id"] == whole  # the same run renders the same id
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    assert not list(validator.iter_errors(document(full)))


def test_automation_details_without_scope(case: tuple[str, GateResult]) -> None:
    """A run that walked no directory (a converted report) is filed under the plain bastion category."""
    _, result = case
    details = run_of(result)["automationDetails"]
    assert details["id"].rsplit("/", 1)[0] == "bastion"


@pytest.mark.parametrize(
    ("root", "category"),
    [
        (None, "bastion"),
        (".", "bastion"),
        ("repo", "bastion/repo"),
        ("svc", "bastion/svc"),
        ("a/b/", "bastion/a/b"),
    ],
)
def test_automation_category(root: str | None, category: str) -> None:
    assert sarif.automation_category(root) == category


@pytest.mark.parametrize(
    ("root", "stage", "category"),
    [
        (None, "deploy", "bastion/stage:deploy"),
        (".", "build", "bastion/stage:build"),
        ("services/api", "deploy", "bastion/stage:deploy/services/api"),
        ("svc", "a/b", "bastion/stage:a%2Fb/svc"),  # a stage name never adds a segment
        ("svc", "x:y z", "bastion/stage:x%3Ay%20z/svc"),
    ],
)
def test_automation_category_of_a_stage(root: str | None, stage: str, category: str) -> None:
    assert sarif.automation_category(root, stage) == category


@pytest.mark.parametrize("analysis", sorted(sarif.SEPARATE_ANALYSES))
def test_other_analyses_do_not_share_the_code_scan_category(
    full: GateResult, tmp_path: Path, analysis: str
) -> None:
    """A coverage or DAST upload of the same commit under the scan's category would close the
    scan's alerts: each analysis has a category of its own, stage or not."""
    (tmp_path / ".git").mkdir()
    full.scan.root = tmp_path
    full.scan.scanners = [analysis]
    details = run_of(full)["automationDetails"]
    assert details["id"].rsplit("/", 1)[0] == f"bastion/analysis:{analysis}"
    assert details["description"]["text"] == f"Bastion {analysis} of the repository root"
    full.scan.stage = "build"
    staged = run_of(full)["automationDetails"]["id"].rsplit("/", 1)[0]
    assert staged == f"bastion/stage:build/analysis:{analysis}"
    full.scan.scanners = [analysis, "secrets"]  # a code scan that also ran it stays a code scan
    assert run_of(full)["automationDetails"]["id"].rsplit("/", 1)[0] == "bastion/stage:build"


def test_two_stages_of_one_folder_get_two_categories(full: GateResult, tmp_path: Path) -> None:
    """``--stage build`` and ``--stage deploy`` of services/api must not close each other's alerts."""
    (tmp_path / ".git").mkdir()
    full.scan.root = tmp_path / "services" / "api"
    full.scan.root.mkdir(parents=True)
    categories = {}
    for stage in ("build", "deploy", None):
        full.scan.stage = stage
        details = run_of(full)["automationDetails"]
        categories[stage] = details["id"].rsplit("/", 1)[0]
        if stage is not None:
            assert details["description"]["text"] == f"Bastion scan of services/api, stage {stage}"
    assert categories == {
        "build": "bastion/stage:build/services/api",
        "deploy": "bastion/stage:deploy/services/api",
        None: "bastion/services/api",
    }
