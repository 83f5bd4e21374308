"""Deploy-stage inputs: scan a Terraform plan JSON and rendered Kubernetes manifests with the
iac scanner (which reads both) and merge the results into the stage's report.

Inputs are built artifacts that usually live outside the tree (``terraform show -json``
output, ``helm template`` output), so each is scanned as its own target and its findings'
paths are given relative to the current directory, never as the machine's absolute path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from bastion.ci.checks import CheckSelection
from bastion.ci.stages import Stage
from bastion.config import ScanConfig
from bastion.gate import GateResult
from bastion.runner import scan_project
from bastion.scan.registry import Registry

__all__ = ["display_path", "scan_stage_inputs"]

INPUT_SCANNER = "iac"


def display_path(path: Path, cwd: Path | None = None) -> str:
    """``path`` relative to the current directory when below it, else its name."""
    base = (cwd or Path.cwd()).resolve()
    resolved = path.resolve()
    try:
        return (
            PurePosixPath(os.path.relpath(resolved, base)).as_posix()
            if base in resolved.parents
            else resolved.name
        )
    except ValueError:
        return resolved.name


def scan_stage_inputs(
    result: GateResult,
    stage: Stage,
    config: ScanConfig,
    registry: Registry,
    scanner_options: Mapping[str, Mapping[str, Any]],
    selection: CheckSelection | None = None,
) -> GateResult:
    """``result`` with the findings, skips, notices and failures of every input of ``stage``
    added (each input scanned by the iac scanner under the same threshold)."""
    inputs_config = config.model_copy(
        update={
            "scanners": [INPUT_SCANNER],
            "baseline": None,
            "staged": False,
            "git_history": False,
            "since": None,
        }
    )
    options = {INPUT_SCANNER: dict(scanner_options.get(INPUT_SCANNER, {}))}
    if stage.inputs and INPUT_SCANNER not in result.scan.scanners:
        result.scan.scanners.append(INPUT_SCANNER)
    for path in stage.inputs:
        extra = scan_project(path, inputs_config, registry, scanner_options=options, selection=selection)
        shown = display_path(path)
        prefix = PurePosixPath(shown) if path.is_dir() else PurePosixPath(shown).parent
        for finding in extra.findings:
            location = finding.location
            moved = str(prefix / location.path) if location.path and str(prefix) != "." else location.path
            result.findings.append(finding.with_changes(location=replace(location, path=moved)))
        result.suppressed.extend(extra.suppressed)
        result.baselined.extend(extra.baselined)
        result.scan.skips.extend(extra.scan.skips)
        result.scan.notices.extend(extra.scan.notices)
        result.scan.failures.extend(extra.scan.failures)
        result.scan.files_scanned += extra.scan.files_scanned
        result.scan.bytes_scanned += extra.scan.bytes_scanned
    return result
