"""Read an upload's own account of what it could not check into a :class:`Coverage`.

Bastion's JSON report carries ``skipped``, ``failures`` and ``notices``; a SARIF run carries
``invocations[].executionSuccessful`` and ``toolExecutionNotifications`` (Bastion writes its
skips as ``bastion.skip`` warnings, crashes as ``bastion.failure`` errors and notices as
``bastion.notice.<kind>`` notes). A report that lacks these records gives no evidence that
anything was checked, so it fixes nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from bastion.errors import InputError
from bastion.store.coverage import IGNORED_PATHLESS_KINDS, Coverage, Gap, skip_gap

__all__ = ["bastion_coverage", "sarif_run_coverage"]

_EMPTY_TARGET = "empty-target"
_SKIP_PREFIX = "skipped "


def _records(document: dict[str, Any], key: str, name: str) -> list[dict[str, Any]] | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InputError(f"{name}: '{key}' must be a list of objects")
    return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def bastion_coverage(document: dict[str, Any], name: str, scanners: set[str]) -> Coverage:
    """The coverage of a Bastion JSON report (its ``skipped``, ``failures`` and ``notices``)."""
    skipped = _records(document, "skipped", name)
    failures = _records(document, "failures", name)
    notices = _records(document, "notices", name) or []
    if skipped is None or failures is None:
        return Coverage(False, (), "the report has no 'skipped'/'failures' records")
    if failures:
        first = failures[0]
        return Coverage(False, (), f"scanner {first.get('scanner')!s} failed: {first.get('error')!s}"[:500])
    gaps = [skip_gap(str(s.get("component", "")), str(s.get("reason", "")), scanners) for s in skipped]
    for notice in notices:
        kind = str(notice.get("kind", ""))
        message = str(notice.get("message", ""))
        if kind == _EMPTY_TARGET:
            return Coverage(False, (), f"empty target: {message}"[:500])
        path, scanner = _str(notice.get("path")), _str(notice.get("scanner"))
        if path is None and (scanner is None or kind in IGNORED_PATHLESS_KINDS):
            continue
        gaps.append(Gap(f"{kind}: {message}"[:500], scanner, None, path))
    return Coverage(True, tuple(gaps))


def _note_path(note: dict[str, Any]) -> str | None:
    locations = note.get("locations")
    if not isinstance(locations, list) or not locations or not isinstance(locations[0], dict):
        return None
    physical = locations[0].get("physicalLocation")
    artifact = physical.get("artifactLocation") if isinstance(physical, dict) else None
    uri = artifact.get("uri") if isinstance(artifact, dict) else None
    return unquote(uri) if isinstance(uri, str) and uri else None


def sarif_run_coverage(run: dict[str, Any], scanner: str | None, where: str) -> Coverage:
    """The coverage of one SARIF run; ``scanner`` is the run's scanner (None: Bastion's own run,
    whose notifications do not say which of its scanners they concern)."""
    invocations = run.get("invocations") or []
    if not isinstance(invocations, list) or not all(isinstance(i, dict) for i in invocations):
        raise InputError(f"{where}: invocations must be a list of objects")
    gaps: list[Gap] = []
    for invocation in invocations:
        if invocation.get("executionSuccessful") is False:
            return Coverage(False, (), f"{where}: the tool reports an unsuccessful execution")
        notes = invocation.get("toolExecutionNotifications") or []
        if not isinstance(notes, list):
            raise InputError(f"{where}: toolExecutionNotifications must be a list")
        for note in notes:
            if not isinstance(note, dict):
                raise InputError(f"{where}: a tool execution notification is not an object")
            gap = _note_gap(note, scanner)
            if gap is None:
                continue
            if gap.scanner is None and gap.path is None:
                return Coverage(False, (), f"{where}: {gap.reason}")
            gaps.append(gap)
    return Coverage(True, tuple(gaps))


def _note_gap(note: dict[str, Any], scanner: str | None) -> Gap | None:
    descriptor = note.get("descriptor")
    kind = str(descriptor.get("id", "")) if isinstance(descriptor, dict) else ""
    message = note.get("message")
    text = str(message.get("text", "")) if isinstance(message, dict) else ""
    level = str(note.get("level", "warning"))
    path = _note_path(note)
    if scanner is None and kind == "bastion.skip" and text.startswith(_SKIP_PREFIX):
        component, _, reason = text[len(_SKIP_PREFIX) :].partition(": ")
        return skip_gap(component, reason)
    if scanner is None and kind.startswith("bastion.notice."):
        notice_kind = kind.removeprefix("bastion.notice.")
        if notice_kind == _EMPTY_TARGET:
            return Gap(f"empty target: {text}"[:500])
        if path is None and notice_kind in IGNORED_PATHLESS_KINDS:
            return None
        return Gap(f"{notice_kind}: {text}"[:500], None, None, path)
    if path is not None:
        return Gap(f"{kind or level}: {text}"[:500], scanner, None, path)
    if level == "error" or kind == "bastion.failure" or scanner is None:
        return Gap(f"{kind or level}: {text}"[:500], scanner)
    return None
