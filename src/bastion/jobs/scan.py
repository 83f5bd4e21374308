"""Scan one checkout in a child process with a memory cap and a time limit.

The child is forked from the worker (it touches none of the worker's connections; logging's
locks are re-initialised in a forked child), sets ``RLIMIT_AS`` and runs the ordinary scan
with the repository's own ``bastion.toml`` read *untrusted*
(:func:`bastion.config.load_repo_config`: nothing in it may relax the gate, run a program or
send a finding elsewhere). Out of memory, a timeout or a crash ends the
job with that reason; the worker itself is untouched and takes the next job.
"""

from __future__ import annotations

import functools
import multiprocessing
import resource
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from bastion.config import find_config_file, load_config, load_repo_config
from bastion.errors import BastionError, InputError
from bastion.runner import scan_project
from bastion.scan.engine import Concurrency
from bastion.scan.registry import Registry, load_scanner

__all__ = [
    "ScanCrashed",
    "ScanLimits",
    "ScanOutOfMemory",
    "ScanOutcome",
    "ScanTimeout",
    "scan_checkout",
]


class ScanOutOfMemory(BastionError):
    """The scan needed more memory than its cap."""


class ScanCrashed(BastionError):
    """The scan raised an unexpected error or its process died without a result."""


class ScanTimeout(BastionError):
    """The scan ran past its time limit."""


@dataclass(frozen=True)
class ScanLimits:
    """What one repository's scan may use."""

    memory_bytes: int = 2_000_000_000
    timeout_s: float = 600.0
    scanners: tuple[str, ...] | None = None
    """Scanner names; None: every installed scanner."""


@dataclass(frozen=True)
class ScanOutcome:
    """Findings (as :meth:`Finding.to_dict`) and the notices of the run, one line each."""

    findings: list[dict[str, Any]]
    notes: list[str]


@functools.cache
def warm_registry(scanners: tuple[str, ...] | None) -> Registry:
    """The scanner registry, its scanners imported and every lazy cache of a scan filled (rules
    compiled, the control mappings read) by one scan of an empty directory, once per process:
    each job's forked child inherits all of it instead of paying it again (about 60 ms a job)."""
    registry = Registry.from_entry_points()
    for registration in registry.select(list(scanners) if scanners else None):
        load_scanner(registration.reference)
    with tempfile.TemporaryDirectory(prefix="bastion-warm-") as empty:
        _scan(Path(empty), scanners, registry)
    return registry


def _scan(path: Path, scanners: tuple[str, ...] | None, registry: Registry) -> ScanOutcome:
    overrides: dict[str, Any] = {
        "scanners": list(scanners) if scanners else None,
        "concurrency": Concurrency.THREAD.value,
        "jobs": 1,
        "quiet": True,
    }
    config_path = find_config_file(path)
    notes: list[str] = []
    if config_path is None:
        settings = load_config(None, overrides)
    else:
        settings, dropped = load_repo_config(config_path, overrides)
        notes.extend(
            f"{config_path.name}: {key} not applied (untrusted repository config)" for key in dropped
        )
    result = scan_project(path, settings.scan, registry)
    notes.extend(notice.describe() for notice in result.scan.notices)
    return ScanOutcome([finding.to_dict() for finding in result.findings], notes)


def run_scan(path: str, scanners: tuple[str, ...] | None, memory_bytes: int) -> tuple[str, Any]:
    """In a child: cap its memory, scan ``path``; ``(kind, payload)`` for :func:`outcome_of`."""
    registry = warm_registry(scanners)  # inherited from the parent: no work here
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        return ("ok", _scan(Path(path), scanners, registry))
    except MemoryError:
        return ("oom", "")
    except BastionError as exc:
        return ("error", str(exc))
    except Exception as exc:  # a scanner's bug: the job records it, the worker goes on
        return ("crash", f"{type(exc).__name__}: {exc}")


def _child(conn: Connection, path: str, scanners: tuple[str, ...] | None, memory_bytes: int) -> None:
    try:
        conn.send(run_scan(path, scanners, memory_bytes))
    finally:
        conn.close()


def outcome_of(path: Path, kind: str, payload: Any, limits: ScanLimits) -> ScanOutcome:
    """The outcome :func:`run_scan` sent, or its error raised."""
    if kind == "oom":
        raise ScanOutOfMemory(f"{path}: scan ran out of memory (cap {limits.memory_bytes} bytes)")
    if kind == "error":
        raise InputError(str(payload))
    if kind == "crash":
        raise ScanCrashed(f"{path}: scan crashed: {payload}")
    if not isinstance(payload, ScanOutcome):
        raise BastionError(f"{path}: the scan process sent {type(payload).__name__}, not a result")
    return payload


def died(path: Path, code: int | None, limits: ScanLimits) -> BastionError:
    """The error of a child that ended with exit status ``code`` (negative: killed by that
    signal) and no result."""
    if code is not None and code < 0:
        return ScanOutOfMemory(
            f"{path}: scan process killed by signal {-code} (out of memory under a "
            f"{limits.memory_bytes} byte cap, or killed)"
        )
    return ScanCrashed(f"{path}: scan process exited with {code} and no result")


def _stop(process: BaseProcess, wait_s: float) -> None:
    process.join(wait_s)
    if process.is_alive():
        process.kill()
        process.join()
    process.close()


def scan_checkout(path: Path, limits: ScanLimits) -> ScanOutcome:
    """Scan ``path`` in a limited child; :class:`ScanOutOfMemory`, :class:`ScanTimeout`, or
    :class:`BastionError` with the scan's own error or how the child died."""
    # fork: milliseconds, and the child inherits the imported scanners. A spawned or forkserver
    # child would import the command line again for every job (hundreds of milliseconds).
    context = multiprocessing.get_context("fork")
    warm_registry(limits.scanners)  # once per process, before the fork, outside the memory cap
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, str(path), limits.scanners, limits.memory_bytes))
    child.start()
    send.close()
    try:
        if not receive.poll(limits.timeout_s):
            child.kill()
            raise ScanTimeout(f"{path}: scan timed out after {limits.timeout_s:g} s")
        kind, payload = receive.recv()
    except EOFError:
        child.join()
        raise died(path, child.exitcode, limits) from None
    finally:
        _stop(child, 5)
        receive.close()
    return outcome_of(path, kind, payload, limits)
