"""GitLab security report: stable ids, the 15.0.7 shape, and an injectable clock."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from bastion.findings import Severity
from bastion.gate import GateResult
from bastion.report import gitlab

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
"""The pattern GitLab's schema gives start_time and end_time."""


def document(result: GateResult, now: datetime | None = NOW) -> dict[str, Any]:
    """Render and parse back."""
    parsed: dict[str, Any] = json.loads(gitlab.render(result, now=now))
    return parsed


def by_rule(result: GateResult) -> dict[str, dict[str, Any]]:
    """Vulnerabilities keyed by their bastion_rule identifier."""
    return {v["identifiers"][0]["value"]: v for v in document(result)["vulnerabilities"]}


def test_top_level_shape(full: GateResult, pinned_version: str) -> None:
    doc = document(full)
    assert doc["version"] == "15.0.7"
    scan = doc["scan"]
    tool = {
        "id": "bastion",
        "name": "Bastion",
        "url": "https://github.com/bastion-security/bastion",
        "vendor": {"name": "Bastion"},
        "version": pinned_version,
    }
    assert scan["analyzer"] == scan["scanner"] == tool
    assert scan["type"] == "sast"
    assert scan["status"] == "success"


def test_times_come_from_the_injected_clock_and_duration(full: GateResult) -> None:
    scan = document(full)["scan"]
    assert scan["end_time"] == "2026-01-02T03:04:05"
    assert scan["start_time"] == "2026-01-02T03:04:03"  # 1.2345 s earlier, truncated


def test_clock_in_another_zone_is_written_in_utc(full: GateResult) -> None:
    tokyo = NOW.astimezone(timezone(timedelta(hours=9)))
    assert document(full, tokyo)["scan"]["end_time"] == "2026-01-02T03:04:05"


def test_default_clock_writes_the_schema_pattern(full: GateResult) -> None:
    scan = document(full, None)["scan"]
    assert TIME.match(scan["start_time"])
    assert TIME.match(scan["end_time"])
    assert scan["start_time"] <= scan["end_time"]


def test_only_reported_findings_become_vulnerabilities(full: GateResult) -> None:
    vulns = document(full)["vulnerabilities"]
    assert [v["identifiers"][0]["value"] for v in vulns] == [f.rule_id for f in full.findings]


def test_ids_are_uuids_stable_across_runs_and_unique(full: GateResult) -> None:
    first = [v["id"] for v in document(full)["vulnerabilities"]]
    again = [v["id"] for v in document(full, NOW + timedelta(days=3))["vulnerabilities"]]
    assert first == again
    assert len(set(first)) == len(first)
    assert all(uuid.UUID(i).version == 5 for i in first)


def test_id_follows_the_fingerprint(full: GateResult) -> None:
    finding = full.findings[0]
    moved = finding.with_changes(location=finding.location.__class__("src/config.py", 90, 90))
    assert gitlab.vulnerability_id(moved) == gitlab.vulnerability_id(finding)
    assert gitlab.vulnerability_id(finding.with_changes(fingerprint="x")) != gitlab.vulnerability_id(finding)


def test_vulnerability_fields(full: GateResult) -> None:
    vuln = by_rule(full)["secrets.aws-access-key"]
    assert vuln["name"] == "AWS access key"
    assert vuln["severity"] == "Critical"
    assert vuln["solution"] == "Revoke the key in IAM, then load it from the environment"
    assert vuln["description"].startswith("AWS access key id committed to the repository")
    assert "nist-800-53-r5:IA-5" in vuln["description"]
    assert vuln["location"] == {"file": "src/config.py", "start_line": 3, "end_line": 3}
    assert vuln["identifiers"] == [
        {
            "type": "bastion_rule",
            "name": "secrets.aws-access-key",
            "value": "secrets.aws-access-key",
            "url": "https://docs.example.org/rules/secrets.aws-access-key",
        },
        {
            "type": "cwe",
            "name": "CWE-798",
            "value": "798",
            "url": "https://cwe.mitre.org/data/definitions/798.html",
        },
    ]
    assert "cve" not in vuln


def test_every_severity_is_capitalized() -> None:
    assert {s: gitlab.SEVERITY[s] for s in Severity} == {
        Severity.CRITICAL: "Critical",
        Severity.HIGH: "High",
        Severity.MEDIUM: "Medium",
        Severity.LOW: "Low",
        Severity.INFO: "Info",
    }


def test_no_fix_means_no_solution(full: GateResult) -> None:
    assert "solution" not in by_rule(full)["iac.aws.s3-bucket-encryption"]


def test_url_and_purl_stand_in_for_the_file(full: GateResult) -> None:
    vulns = by_rule(full)
    dast = vulns["dast.csp-missing"]
    assert dast["location"] == {"file": "https://app.example.com/login?next=%2F&lang=en"}
    assert "URL: https://app.example.com/login" in dast["description"]
    npm = vulns["deps.GHSA-c2qf-rxjj-qqgw"]
    assert npm["location"] == {"file": "pkg:npm/semver@5.7.1"}
    lock = vulns["deps.GHSA-j8r2-6x86-q33q"]
    assert lock["location"] == {"file": "poetry.lock"}
    assert "Package: pkg:pypi/requests@2.19.0" in lock["description"]


def test_long_title_is_cut_to_gitlab_limit(full: GateResult) -> None:
    full.findings[0] = full.findings[0].with_changes(title="x" * 400)
    assert len(by_rule(full)["secrets.aws-access-key"]["name"]) == 255


def test_skips_and_notices_become_messages(full: GateResult) -> None:
    assert document(full)["scan"]["messages"] == [
        {"level": "warn", "value": "skipped sast.semgrep: semgrep not installed"},
        {
            "level": "info",
            "value": "data/latin1.txt: not valid UTF-8 (byte 17); scanned with replacement characters",
        },
        {"level": "info", "value": "2 binary files skipped"},
    ]


def test_scanner_failure_fails_the_scan(crashed: GateResult) -> None:
    scan = document(crashed)["scan"]
    assert scan["status"] == "failure"
    assert scan["messages"] == [
        {"level": "fatal", "value": "scanner iac failed: RuntimeError: policy engine exploded"}
    ]


def test_clean_scan_has_no_messages_or_vulnerabilities(clean: GateResult) -> None:
    doc = document(clean)
    assert doc["vulnerabilities"] == []
    assert "messages" not in doc["scan"]
    assert doc["scan"]["status"] == "success"
