"""GitLab reports at GitLab's limits, and the mirror of GitLab's 15.0.7 schemas (gitlab_shapes)
rejecting each kind of break the real schemas reject (bench/ci/gitlab_schema_check.py measures the
mirror against the real schema files: bench/ci/RESULTS.md)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from gitlab_shapes import check_report
from test_ci_render import sample

from bastion.ci.gitlab_reports import GitLabReport, to_report
from bastion.gate import GateResult
from bastion.report import gitlab


def _stretched() -> GateResult:
    """Every finding of the sample with a fix, title and message past GitLab's limits and a rule
    link that is a path, not a URL."""
    result = sample()
    result.findings = [
        f.with_changes(fix="Rotate it. " * 1_000, title="Long title " * 40, help_uri="docs/rules.md")
        for f in result.findings
    ]
    return result


def test_reports_stay_within_gitlabs_limits() -> None:
    """A fix over 7,000 characters or a link that is no URL failed GitLab's validation of the
    whole report (every finding lost); now each is cut or left out."""
    result = _stretched()
    combined = gitlab.to_document(result)
    check_report(combined, "sast")
    for vulnerability in combined["vulnerabilities"]:
        assert len(vulnerability["solution"]) == gitlab.SOLUTION_LIMIT
        assert vulnerability["solution"].endswith("…")
        assert len(vulnerability["name"]) == gitlab.NAME_LIMIT
        assert all("url" not in i for i in vulnerability["identifiers"] if i["type"] == "bastion_rule")
    for kind in GitLabReport:
        check_report(to_report(result, kind), kind.value)


def _report(kind: str) -> dict[str, Any]:
    document: dict[str, Any] = to_report(sample(), GitLabReport(kind))
    check_report(document, kind)
    return document


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()
_DEP = "vulnerabilities.0.location.dependency"

BREAKS = [
    # (report type, what GitLab's schema says, the change that breaks it)
    ("sast", "required version", _set("version", _DELETE)),
    ("sast", "version pattern", _set("version", "15.0")),
    ("sast", "required scan.analyzer", _set("scan.analyzer", _DELETE)),
    ("sast", "analyzer.url pattern ^https?://", _set("scan.analyzer.url", "ftp://example.org")),
    ("sast", "analyzer.vendor.name minLength 1", _set("scan.analyzer.vendor.name", "")),
    ("sast", "scanner.version minLength 1", _set("scan.scanner.version", "")),
    ("sast", "scan.type enum", _set("scan.type", "secret_detection")),
    ("sast", "scan.status enum", _set("scan.status", "failed")),
    ("sast", "start_time pattern (no zone)", _set("scan.start_time", "2026-12-07T10:00:00Z")),
    ("sast", "messages level enum", _set("scan.messages", [{"level": "warning", "value": "x"}])),
    ("sast", "messages value minLength 1", _set("scan.messages", [{"level": "warn", "value": ""}])),
    ("sast", "required vulnerability id", _set("vulnerabilities.0.id", _DELETE)),
    ("sast", "required location", _set("vulnerabilities.0.location", _DELETE)),
    ("sast", "severity enum", _set("vulnerabilities.0.severity", "high")),
    ("sast", "name maxLength 255", _set("vulnerabilities.0.name", "n" * 256)),
    ("sast", "solution maxLength 7000", _set("vulnerabilities.0.solution", "s" * 7001)),
    ("sast", "identifiers minItems 1", _set("vulnerabilities.0.identifiers", [])),
    ("sast", "identifier value minLength 1", _set("vulnerabilities.0.identifiers.0.value", "")),
    ("sast", "identifier url pattern", _set("vulnerabilities.0.identifiers.0.url", "docs/rule.md")),
    ("sast", "start_line is a number", _set("vulnerabilities.0.location.start_line", "12")),
    ("sast", "field not mirrored (cvss_vectors)", _set("vulnerabilities.0.cvss_vectors", [])),
    ("secret_detection", "required location.commit", _set("vulnerabilities.0.location.commit", _DELETE)),
    ("secret_detection", "commit.sha minLength 1", _set("vulnerabilities.0.location.commit.sha", "")),
    ("dependency_scanning", "required dependency_files", _set("dependency_files", _DELETE)),
    ("dependency_scanning", "location.file minLength 1", _set("vulnerabilities.0.location.file", "")),
    (
        "dependency_scanning",
        "required dependency.version",
        _set(f"{_DEP}.version", _DELETE),
    ),
    (
        "dependency_scanning",
        "dependency.direct is a boolean",
        _set(f"{_DEP}.direct", "yes"),
    ),
    ("dependency_scanning", "package_manager minLength 1", _set("dependency_files.0.package_manager", "")),
    (
        "dependency_scanning",
        "dependencies[].package required",
        _set("dependency_files.0.dependencies.0.package", _DELETE),
    ),
]


@pytest.mark.parametrize(("kind", "constraint", "change"), BREAKS, ids=[b[1] for b in BREAKS])
def test_mirror_rejects_what_gitlab_rejects(kind: str, constraint: str, change: Callable[..., None]) -> None:
    document = copy.deepcopy(_report(kind))
    change(document)
    try:
        check_report(document, kind)
    except AssertionError:
        return
    pytest.fail(f"gitlab_shapes accepts a {kind} report that breaks: {constraint}")
