"""One scan from configuration to gate decision; what ``bastion scan`` and the server call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bastion.ci.checks import CheckSelection
from bastion.comply.mapping import attach_controls
from bastion.config import ScanConfig
from bastion.errors import ConfigError, UsageError
from bastion.gate import GatePolicy, GateResult, PathIgnore, evaluate, load_baseline
from bastion.scan.base import Scanner
from bastion.scan.engine import EngineOptions, run_scan
from bastion.scan.registry import Registry, load_scanner
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
    selection: CheckSelection | None = None,
) -> GateResult:
    """Scan ``target`` with the configured scanners and apply suppressions, baseline and the gate
    policy of ``config`` (threshold, fail on KEV, strict). ``selection`` (``--check``,
    ``--skip-check``, ``--severity``) leaves findings out before the gate sees them, with a notice.

    Raises :class:`~bastion.errors.UsageError` for an unknown scanner and
    :class:`~bastion.errors.InputError` for a missing target or unusable baseline,
    before any scanning starts.
    """
    registrations = registry.select(config.scanners)
    scanners = {reg.name: load_scanner(reg.reference) for reg in registrations}  # once per run
    scanner_options = scanner_options or {}
    _check_scanner_options(registry, scanners, scanner_options)
    _check_history(scanners, config)
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
        scanner_options=scanner_options,
        history=config.history,
    )
    scan = run_scan(
        target, registrations, options, on_walk=hooks.walked, on_unit_done=hooks.unit_done, scanners=scanners
    )
    scan.findings = [attach_controls(finding) for finding in scan.findings]  # framework controls (comply)
    if selection is not None:
        selection.apply(scan)
    ignores = [PathIgnore(tuple(i.paths), tuple(i.rules), i.reason) for i in config.ignore]
    policy = GatePolicy(threshold=config.threshold, fail_on_kev=config.fail_on_kev, strict=config.strict)
    return evaluate(scan, policy, baseline=baseline, min_confidence=config.min_confidence, ignores=ignores)


def _check_scanner_options(
    registry: Registry, scanners: Mapping[str, Scanner], options: dict[str, dict[str, object]]
) -> None:
    """Fail before scanning on a ``[scanners.NAME]`` table that no scanner would accept."""
    for name in options:
        if name not in registry.names:
            known = ", ".join(registry.names)
            raise ConfigError(f"scanners.{name}: no such scanner is installed (available: {known})")
    for name, scanner in scanners.items():
        scanner.check_options(options.get(name, {}))


def _check_history(scanners: Mapping[str, Scanner], config: ScanConfig) -> None:
    """--git-history, --since and --staged need a scanner that reads history."""
    if config.history is None:
        return
    if not any(scanner.reads_history for scanner in scanners.values()):
        flag = {"staged": "--staged", "since": "--since"}.get(config.history.mode.value, "--git-history")
        raise UsageError(f"{flag} needs a scanner that reads git history (secrets); none is selected")
