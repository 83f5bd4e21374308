"""One scan from configuration to gate decision; what ``bastion scan`` and the server call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bastion.config import ScanConfig
from bastion.gate import GateResult, evaluate, load_baseline
from bastion.scan.engine import EngineOptions, run_scan
from bastion.scan.registry import Registry
from bastion.scan.walk import WalkOptions

__all__ = ["ProgressHooks", "scan_project"]


@dataclass(frozen=True)
class ProgressHooks:
    """Callbacks for progress display; both optional."""

    walked: Callable[[int], None] | None = None
    unit_done: Callable[[int, int], None] | None = None


def scan_project(
    target: Path,
    config: ScanConfig,
    registry: Registry,
    scanner_options: dict[str, dict[str, object]] | None = None,
    hooks: ProgressHooks | None = None,
) -> GateResult:
    """Scan ``target`` with the configured scanners and apply suppressions, baseline and threshold.

    Raises :class:`~bastion.errors.UsageError` for an unknown scanner and
    :class:`~bastion.errors.InputError` for a missing target or unusable baseline,
    before any scanning starts.
    """
    registrations = registry.select(config.scanners)
    baseline = load_baseline(config.baseline) if config.baseline else None
    hooks = hooks or ProgressHooks()
    options = EngineOptions(
        walk=WalkOptions(
            exclude=tuple(config.exclude),
            max_file_size=int(config.max_file_size),
            respect_gitignore=config.gitignore,
        ),
        concurrency=config.concurrency,
        jobs=config.jobs,
        scanner_options=scanner_options or {},
    )
    scan = run_scan(target, registrations, options, on_walk=hooks.walked, on_unit_done=hooks.unit_done)
    return evaluate(scan, config.threshold, baseline=baseline, min_confidence=config.min_confidence)
