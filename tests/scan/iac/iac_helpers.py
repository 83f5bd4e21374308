"""Shared helpers for the iac tests: scan a directory, index the findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bastion.findings import Finding
from bastion.scan.base import Notice, ScanContext, ScanTarget
from bastion.scan.iac import IacScanner
from bastion.scan.walk import WalkOptions, walk

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "iac"


def run_iac(
    root: Path, options: dict[str, Any] | None = None, max_file_size: int = 5_000_000
) -> tuple[list[Finding], list[Notice]]:
    """Findings and notices of the iac scanner over ``root``."""
    walked = walk(root, WalkOptions(max_file_size=max_file_size))
    context = ScanContext("iac", options or {})
    findings = list(IacScanner().scan(ScanTarget(walked.root, tuple(walked.files)), context))
    return findings, context.notices


def index(findings: list[Finding]) -> set[tuple[str, str, str]]:
    """(rule id, path, resource name) of each finding."""
    return {(f.rule_id, f.location.path or "", str(f.metadata.get("resource"))) for f in findings}
