"""GitLab's separate security report types from one scan: ``secret_detection``,
``dependency_scanning`` and ``sast`` (code and IaC), each in the shape GitLab reads for it.

GitLab shows each type in its own part of the merge request widget and vulnerability
report, and only a ``dependency_scanning`` report with ``location.dependency`` and CVE
identifiers links a finding to the package and advisory. The common fields come from
:mod:`bastion.report.gitlab` (ids stable across pipelines, messages for skips and failures).
"""

from __future__ import annotations

import enum
import json
from dataclasses import replace
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from bastion.findings import Finding
from bastion.gate import GateResult
from bastion.report import gitlab

__all__ = ["GitLabReport", "render_report", "split_findings", "to_report"]

HARD_CODED_CREDENTIALS = 798
"""CWE-798: an IaC finding with it is a secret in the template, reported as secret detection."""
NO_COMMIT = "0000000"
"""What GitLab's own secrets analyzer writes as the commit of a finding in the working tree."""

PACKAGE_MANAGERS = {
    "requirements": "pip",
    "pyproject.toml": "pip",
    "poetry.lock": "poetry",
    "uv.lock": "pip",
    "pdm.lock": "pip",
    "pipfile.lock": "pipenv",
    "package-lock.json": "npm",
    "npm-shrinkwrap.json": "npm",
    "yarn.lock": "yarn",
    "pnpm-lock.yaml": "pnpm",
    "pom.xml": "maven",
    "gradle.lockfile": "gradle",
    "go.mod": "go",
    "go.sum": "go",
    "cargo.lock": "cargo",
    "gemfile.lock": "bundler",
    "composer.lock": "composer",
    "packages.lock.json": "nuget",
}
"""Lockfile or manifest name (lower case) -> GitLab's ``package_manager`` spelling."""


class GitLabReport(enum.Enum):
    """A GitLab report type and the artifact name GitLab's own analyzers give it."""

    SECRET_DETECTION = "secret_detection"  # bastion: ignore[sast.bandit.B105] a report type name, no password
    DEPENDENCY_SCANNING = "dependency_scanning"
    SAST = "sast"

    @property
    def filename(self) -> str:
        """``gl-secret-detection-report.json`` and the like."""
        return f"gl-{self.value.replace('_', '-')}-report.json"


def _kind(finding: Finding) -> GitLabReport:
    if finding.scanner == "secrets" or finding.rule_id.startswith("secrets."):
        return GitLabReport.SECRET_DETECTION
    if finding.scanner == "iac" and HARD_CODED_CREDENTIALS in finding.cwe:
        return GitLabReport.SECRET_DETECTION
    if finding.scanner == "deps" and finding.metadata.get("package"):
        return GitLabReport.DEPENDENCY_SCANNING
    return GitLabReport.SAST


def split_findings(result: GateResult) -> dict[GitLabReport, GateResult]:
    """One gate result per report type, each holding that type's findings (a secret found by
    the iac scanner is a secret: it goes to ``secret_detection``)."""
    parts: dict[GitLabReport, list[Finding]] = {kind: [] for kind in GitLabReport}
    for finding in result.findings:
        parts[_kind(finding)].append(finding)
    return {kind: replace(result, findings=found) for kind, found in parts.items()}


def to_report(result: GateResult, kind: GitLabReport, *, now: datetime | None = None) -> dict[str, Any]:
    """The ``kind`` report of ``result`` (only its findings of that type) as JSON types."""
    part = split_findings(result)[kind]
    document = gitlab.to_document(part, now=now)
    document["scan"]["type"] = kind.value
    for vulnerability, finding in zip(document["vulnerabilities"], part.findings, strict=True):
        if kind is GitLabReport.SECRET_DETECTION:
            vulnerability["location"]["commit"] = {"sha": finding.location.commit or NO_COMMIT}
        elif kind is GitLabReport.DEPENDENCY_SCANNING:
            _dependency(vulnerability, finding)
    if kind is GitLabReport.DEPENDENCY_SCANNING:
        document["dependency_files"] = _dependency_files(part.findings)
    return document


def render_report(result: GateResult, kind: GitLabReport, *, now: datetime | None = None) -> str:
    """:func:`to_report` as indented JSON with a trailing newline."""
    return json.dumps(to_report(result, kind, now=now), indent=2, ensure_ascii=False) + "\n"


def _dependency(vulnerability: dict[str, Any], finding: Finding) -> None:
    meta = finding.metadata
    vulnerability["location"] = {
        "file": finding.location.path or finding.location.purl or "(unknown manifest)",
        "dependency": {
            "package": {"name": str(meta["package"])},
            "version": str(meta.get("installed_version") or ""),
            "direct": meta.get("direct") is True,
        },
    }
    ids = [str(meta.get("advisory") or ""), *(str(a) for a in meta.get("aliases", ()))]
    seen = {i["value"] for i in vulnerability["identifiers"]}
    for advisory in ids:
        if not advisory or advisory in seen:
            continue
        seen.add(advisory)
        kind = advisory.split("-", 1)[0].lower() or "advisory"  # GitLab: a type is never empty
        entry = {"type": kind, "name": advisory, "value": advisory}
        if kind == "cve":
            entry["url"] = f"https://nvd.nist.gov/vuln/detail/{advisory}"
        elif kind == "ghsa":
            entry["url"] = f"https://github.com/advisories/{advisory}"
        # CVE first: GitLab's report uses the first identifier as the primary one.
        position = 0 if kind == "cve" else len(vulnerability["identifiers"])
        vulnerability["identifiers"].insert(position, entry)
    if meta.get("smallest_fix"):
        solution = f"Upgrade {meta['package']} to {meta['smallest_fix']}"
        vulnerability["solution"] = solution[: gitlab.SOLUTION_LIMIT]


def _dependency_files(findings: list[Finding]) -> list[dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for finding in findings:
        path = finding.location.path
        if not path:
            continue
        name = PurePosixPath(path).name.lower()
        manager = PACKAGE_MANAGERS.get(name) or ("pip" if "requirements" in name else "unknown")
        entry = files.setdefault(path, {"path": path, "package_manager": manager, "dependencies": []})
        dependency = {
            "package": {"name": str(finding.metadata["package"])},
            "version": str(finding.metadata.get("installed_version") or ""),
        }
        if dependency not in entry["dependencies"]:
            entry["dependencies"].append(dependency)
    return [files[path] for path in sorted(files)]
