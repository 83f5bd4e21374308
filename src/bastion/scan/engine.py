"""Run the selected scanners over one walk of the target, concurrently.

Work is split into units: one per scanner, or one per shard of the file list for a
scanner whose ``shardable`` capability is true (its findings depend on one file at a time).
Units run on a thread pool or a process pool (``concurrency``); bench/core/RESULTS.md
holds the measurement behind the default. A scanner that crashes becomes an error
record and the other scanners' results still arrive.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from bastion.errors import BastionError
from bastion.findings import Finding
from bastion.results import Notice, ScannerFailure, ScanResult, Skip
from bastion.scan.base import HistorySpec, ScanContext, Scanner, ScannerUnavailable, ScanTarget
from bastion.scan.registry import Registration, RegistryError, load_scanner
from bastion.scan.walk import WalkOptions, walk

__all__ = ["Concurrency", "EngineOptions", "UnitObserver", "load_scanners", "run_scan"]

log = logging.getLogger(__name__)

MIN_FILES_PER_SHARD = 200
"""Below this many files per shard the pool overhead outweighs the parallelism."""


@runtime_checkable
class UnitObserver(Protocol):
    """An ``on_unit_done`` callback that also wants to know which scanners are still at work.

    A plain ``(done, total)`` callable keeps working; an object that also has ``running`` is told,
    before any unit runs and after each one finishes, the scanners whose units are not finished
    (plan order, each name once; empty at the end), so a progress bar can name them.
    """

    def __call__(self, done: int, total: int) -> None:
        """``done`` of ``total`` units finished."""

    def running(self, scanners: Sequence[str]) -> None:
        """The scanners with units submitted and not finished."""


class Concurrency(enum.Enum):
    """How units of work run side by side."""

    THREAD = "thread"
    PROCESS = "process"


@dataclass(frozen=True)
class EngineOptions:
    """Everything the engine needs besides the target and the scanners."""

    walk: WalkOptions = field(default_factory=WalkOptions)
    concurrency: Concurrency = Concurrency.PROCESS
    jobs: int = 0
    """Worker count; 0 means one per CPU."""
    scanner_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per-scanner options from the ``[scanners.NAME]`` config sections."""
    history: HistorySpec | None = None
    """Git history to scan, for scanners that read history."""


@dataclass(frozen=True)
class _Unit:
    registration: Registration
    shard: int
    shards: int


@dataclass
class _UnitOutcome:
    scanner: str
    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    failure: str | None = None


@functools.cache
def _worker_scanner(reference: str) -> Scanner:
    """A scanner loaded inside a worker process, once per process, not once per unit."""
    return load_scanner(reference)


def _run_unit(
    unit: _Unit, target: ScanTarget, options: Mapping[str, Any], scanner: Scanner | None = None
) -> _UnitOutcome:
    """Run one unit; module-level so a process pool can pickle it. ``scanner`` is the instance the
    run loaded; None in a worker process, which loads it by reference once."""
    name = unit.registration.name
    context = ScanContext(scanner=name, options=options)
    outcome = _UnitOutcome(scanner=name)
    try:
        if scanner is None:
            scanner = _worker_scanner(unit.registration.reference)
        outcome.findings = list(scanner.scan(target, context))
    except ScannerUnavailable as exc:
        context.skip(name, str(exc))
    except BastionError as exc:  # e.g. a rule file named in the config that does not exist
        outcome.failure = str(exc)
    except Exception as exc:  # a plug-in bug must not take the other scanners down
        log.debug("scanner %s crashed", name, exc_info=True)
        outcome.failure = f"{type(exc).__name__}: {exc}"
    outcome.notices = context.notices
    outcome.skips = context.skips
    return outcome


def _unit_target(unit: _Unit, target: ScanTarget) -> ScanTarget:
    """The part of the target a unit works on; sliced before it is sent to a worker process,
    so each process receives only its own shard."""
    if unit.shards == 1:
        return target
    files = target.files[unit.shard :: unit.shards]
    return ScanTarget(target.root, files, target.history, shard=unit.shard, shards=unit.shards)


def load_scanners(registrations: Sequence[Registration]) -> tuple[dict[str, Scanner], dict[str, str]]:
    """Load each registration once: the scanners by name, and the load error of those that failed."""
    loaded: dict[str, Scanner] = {}
    errors: dict[str, str] = {}
    for reg in registrations:
        try:
            loaded[reg.name] = load_scanner(reg.reference)
        except RegistryError as exc:
            errors[reg.name] = str(exc)
    return loaded, errors


def _only(root: Path) -> tuple[str, ...]:
    """For a single-file target, patterns excluding everything in its directory but that file
    (what the walk did; reports carry it so a server fixes nothing beside the file)."""
    if not root.is_file():
        return ()
    return ("*", "!/" + re.sub(r"([\\*?\[\]!# ])", r"\\\1", root.name))


def _plan(
    registrations: Sequence[Registration], scanners: Mapping[str, Scanner], files: int, workers: int
) -> list[_Unit]:
    units: list[_Unit] = []
    for reg in registrations:
        scanner = scanners.get(reg.name)
        if scanner is None:
            continue  # did not load: reported as a failure with the reason
        shards = min(workers, files // MIN_FILES_PER_SHARD) if scanner.shardable else 1
        shards = max(shards, 1)
        units.extend(_Unit(reg, i, shards) for i in range(shards))
    return units


def _executor(concurrency: Concurrency, workers: int) -> Executor:
    if concurrency is Concurrency.PROCESS:
        return ProcessPoolExecutor(max_workers=workers)
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bastion-scan")


def run_scan(
    root: Path,
    registrations: Sequence[Registration],
    options: EngineOptions,
    on_walk: Callable[[int], None] | None = None,
    on_unit_done: Callable[[int, int], None] | None = None,
    scanners: Mapping[str, Scanner] | None = None,
) -> ScanResult:
    """Walk ``root`` once and run ``registrations`` over it; never raises for a scanner bug.

    Raises :class:`~bastion.errors.InputError` when ``root`` cannot be scanned at all.
    ``on_walk(files_so_far)`` and ``on_unit_done(done, total)`` report progress (a
    :class:`UnitObserver` also hears which scanners are still at work). ``scanners``
    are the instances the caller already loaded (by registration name); the others are loaded
    here, each once. A process pool's workers load a scanner at most once per process.
    """
    started = time.perf_counter()
    walked = walk(root, options.walk, on_file=on_walk)
    target = ScanTarget(walked.root, tuple(walked.files), history=options.history)
    result = ScanResult(
        root=walked.root,
        scanners=[r.name for r in registrations],
        notices=list(walked.notices),
        files_scanned=len(walked.files),
        bytes_scanned=walked.bytes_total,
        excludes=tuple(options.walk.exclude) + _only(root),
        gitignore=options.walk.respect_gitignore,
        history=options.history.mode.value if options.history is not None else None,
    )
    log.debug(
        "walked %s: %d files, %d bytes, %d notices in %.2fs",
        walked.root,
        len(walked.files),
        walked.bytes_total,
        len(walked.notices),
        time.perf_counter() - started,
    )
    loaded = dict(scanners or {})
    missing, load_errors = load_scanners([r for r in registrations if r.name not in loaded])
    loaded.update(missing)
    workers = options.jobs or os.cpu_count() or 1
    units = _plan(registrations, loaded, len(target.files), workers)
    log.debug("running %d units on %d %s workers", len(units), workers, options.concurrency.value)
    outcomes: list[_UnitOutcome] = []
    observer = on_unit_done if isinstance(on_unit_done, UnitObserver) else None
    if len(units) == 1 or workers == 1:
        for done, unit in enumerate(units, 1):
            if observer is not None:
                observer.running([unit.registration.name])
            scanner = loaded[unit.registration.name]
            outcomes.append(_run_unit(unit, _unit_target(unit, target), _opts(options, unit), scanner))
            if on_unit_done:
                on_unit_done(done, len(units))
    elif units:
        with _executor(options.concurrency, min(workers, len(units))) as pool:
            in_process = options.concurrency is not Concurrency.PROCESS
            futures: list[Future[_UnitOutcome]] = [
                pool.submit(
                    _run_unit,
                    unit,
                    _unit_target(unit, target),
                    _opts(options, unit),
                    loaded[unit.registration.name] if in_process else None,
                )
                for unit in units
            ]
            pending = dict(zip(futures, units, strict=True))
            if observer is not None:
                observer.running(_names(list(pending.values())))
            for done, future in enumerate(as_completed(futures), 1):
                outcomes.append(future.result())
                del pending[future]
                if observer is not None and pending:
                    observer.running(_names(list(pending.values())))
                if on_unit_done:
                    on_unit_done(done, len(units))
    if observer is not None and units:
        observer.running(())
    outcomes.extend(_UnitOutcome(scanner=name, failure=error) for name, error in load_errors.items())
    _merge(result, outcomes)
    result.duration_s = time.perf_counter() - started
    return result


def _names(units: Sequence[_Unit]) -> list[str]:
    """The scanners of ``units``, each once, in plan order."""
    return list(dict.fromkeys(unit.registration.name for unit in units))


def _opts(options: EngineOptions, unit: _Unit) -> Mapping[str, Any]:
    return dict(options.scanner_options.get(unit.registration.name, {}))


def _merge(result: ScanResult, outcomes: list[_UnitOutcome]) -> None:
    failed: dict[str, str] = {}
    for outcome in outcomes:
        result.findings.extend(outcome.findings)
        result.notices.extend(outcome.notices)
        for skip in outcome.skips:
            if skip not in result.skips:
                result.skips.append(skip)
        if outcome.failure and outcome.scanner not in failed:
            failed[outcome.scanner] = outcome.failure
    order = {name: index for index, name in enumerate(result.scanners)}
    ranked = sorted(failed.items(), key=lambda item: order.get(item[0], len(order)))
    result.failures = [ScannerFailure(name, error) for name, error in ranked]  # registration order
    result.findings = disambiguate(sorted(result.findings, key=_order))


def _order(finding: Finding) -> tuple[str, int, int, str]:
    loc = finding.location
    return (
        loc.path or loc.url or loc.purl or "",
        loc.start_line or 0,
        loc.start_column or 0,
        finding.rule_id,
    )


def disambiguate(findings: list[Finding]) -> list[Finding]:
    """Give repeated fingerprints (the same content twice in a file) an occurrence suffix.

    The first occurrence keeps its fingerprint, later ones are re-hashed with their
    occurrence number, so each stays stable while the others do not move past it.
    """
    seen: dict[str, int] = {}
    out: list[Finding] = []
    for finding in findings:
        count = seen.get(finding.fingerprint, 0)
        seen[finding.fingerprint] = count + 1
        if count:
            fresh = hashlib.sha256(f"{finding.fingerprint}#{count}".encode()).hexdigest()[:32]
            finding = finding.with_changes(fingerprint=fresh)
        out.append(finding)
    return out
