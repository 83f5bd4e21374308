"""Read an upload's own account of what it could not check into a :class:`Coverage`.

Bastion's JSON report carries ``skipped``, ``failures`` and ``notices``; a SARIF run carries
``invocations[].executionSuccessful`` and ``toolExecutionNotifications`` (Bastion writes its
skips as ``bastion.skip`` warnings, crashes as ``bastion.failure`` errors and notices as
``bastion.notice.<kind>`` notes). A report that lacks these records gives no evidence that
anything was checked, so it fixes nothing.

Where a run looked is its ``scope`` (the JSON report's ``scope``, a SARIF run's
``properties.bastionScope``): read strictly, a malformed one is refused. A run without one is
credited only with the places its own results show it read (see :mod:`bastion.store.coverage`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from bastion.errors import InputError
from bastion.store.coverage import IGNORED_PATHLESS_KINDS, Coverage, Gap, Scope, proven_places, skip_gap
from bastion.store.sanitize import scrub_tree

__all__ = ["SARIF_SCOPE_KEY", "bastion_coverage", "read_scope", "sarif_run_coverage"]

SARIF_SCOPE_KEY = "bastionScope"
"""Where Bastion's SARIF writer puts the scope: ``runs[].properties.bastionScope``."""
_RAN = ("complete", "partial")
_STATUSES = (*_RAN, "skipped", "failed")
_INCREMENTAL = ("since", "staged")
_MAX_EXCLUDES = 1000
Places = Iterable[tuple[str, Mapping[str, Any] | None]]
"""(scanner, location) of every finding a run reported."""


def read_scope(value: Any, where: str, named: Iterable[str] = ()) -> tuple[Scope, str | None]:
    """A ``scope`` object as a :class:`Scope` (``named``: scanners the run names besides), and
    why the run fixes nothing at all when it read history only in part (else None)."""
    if not isinstance(value, dict):
        raise InputError(f"{where}: 'scope' must be an object")
    root = value.get("root")
    if not isinstance(root, str) or not root or len(root) > 1000 or "\\" in root:
        raise InputError(f"{where}: scope.root must be a relative POSIX path")
    root = str(scrub_tree(posixpath.normpath(root)))  # stored with each finding: never a secret
    if posixpath.isabs(root) or root == ".." or root.startswith("../"):
        raise InputError(f"{where}: scope.root must lie inside the repository")
    excludes = value.get("excludes", [])
    if (
        not isinstance(excludes, list)
        or len(excludes) > _MAX_EXCLUDES
        or not all(isinstance(e, str) and len(e) <= 1000 for e in excludes)
    ):
        raise InputError(f"{where}: scope.excludes must be a list of patterns")
    scanners = value.get("scanners")
    if not isinstance(scanners, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) and v.get("status") in _STATUSES
        for k, v in scanners.items()
    ):
        raise InputError(
            f"{where}: scope.scanners must map scanner names to {{'status': {'|'.join(_STATUSES)}}}"
        )
    history = value.get("history")
    if history is not None and history not in ("all", *_INCREMENTAL):
        raise InputError(f"{where}: scope.history must be null, all, since or staged")
    ran = frozenset(k for k, v in scanners.items() if v["status"] in _RAN)
    scope = Scope(root, tuple(excludes), frozenset(scanners) | frozenset(named), ran)
    why = (
        f"history read only in part ({history}): nothing it did not read is fixed"
        if history in _INCREMENTAL
        else None
    )
    return scope, why


def _scoped(
    coverage: Coverage, scope_value: Any, where: str, named: Iterable[str], places: Places
) -> Coverage:
    """``coverage`` with the run's scope, or with the places it proves when it has none."""
    if scope_value is None:
        return Coverage(
            coverage.complete, coverage.gaps, coverage.incomplete_reason, (), proven_places(places)
        )
    scope, incremental = read_scope(scope_value, where, named)
    if incremental is not None and coverage.complete:
        return Coverage(False, (), incremental, (scope,))
    proven = proven_places(places)  # URL findings need their site shown even in a scoped run
    return Coverage(coverage.complete, coverage.gaps, coverage.incomplete_reason, (scope,), proven)


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


def bastion_coverage(
    document: dict[str, Any], name: str, scanners: set[str], places: Places = ()
) -> Coverage:
    """The coverage of a Bastion JSON report: its ``scope`` (or the ``places`` its findings show
    were read), and its ``skipped``, ``failures`` and ``notices`` records."""
    return _scoped(_records_coverage(document, name, scanners), document.get("scope"), name, scanners, places)


def _records_coverage(document: dict[str, Any], name: str, scanners: set[str]) -> Coverage:
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
        if path is None and kind in IGNORED_PATHLESS_KINDS:
            continue
        # A notice with neither file nor scanner may concern anything: it hides every finding.
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


def sarif_run_coverage(run: dict[str, Any], scanner: str | None, where: str, places: Places = ()) -> Coverage:
    """The coverage of one SARIF run; ``scanner`` is the run's scanner (None: Bastion's own run,
    whose notifications name their scanner in ``properties.scanner`` when they have one);
    ``places``: where its results are. Another tool's ``analysisTarget`` artifacts count as read."""
    places = list(places)
    if scanner is not None:
        places.extend((scanner, {"path": path}) for path in _analysis_targets(run))
    properties = run.get("properties")
    scope_value = (
        properties.get(SARIF_SCOPE_KEY) if isinstance(properties, dict) and scanner is None else None
    )
    named = {s for s, _ in places}
    return _scoped(_run_records(run, scanner, where), scope_value, f"{where}.properties", named, places)


def _analysis_targets(run: dict[str, Any]) -> list[str]:
    artifacts = run.get("artifacts")
    if not isinstance(artifacts, list):
        return []
    found = []
    for artifact in artifacts:
        if not isinstance(artifact, dict) or "analysisTarget" not in (artifact.get("roles") or ()):
            continue
        location = artifact.get("location")
        uri = location.get("uri") if isinstance(location, dict) else None
        if isinstance(uri, str) and uri:
            found.append(unquote(uri))
    return found


def _run_records(run: dict[str, Any], scanner: str | None, where: str) -> Coverage:
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
    properties = note.get("properties")
    named = properties.get("scanner") if isinstance(properties, dict) else None
    if scanner is None and kind == "bastion.skip" and text.startswith(_SKIP_PREFIX):
        component, _, reason = text[len(_SKIP_PREFIX) :].partition(": ")
        return skip_gap(component, reason)
    if scanner is None and kind.startswith("bastion.notice."):
        notice_kind = kind.removeprefix("bastion.notice.")
        if notice_kind == _EMPTY_TARGET:
            return Gap(f"empty target: {text}"[:500])
        if path is None and notice_kind in IGNORED_PATHLESS_KINDS:
            return None
        # The writer names the notice's scanner; without one it may concern any of them.
        own = named if isinstance(named, str) and named else None
        return Gap(f"{notice_kind}: {text}"[:500], own, None, path)
    if path is not None:
        return Gap(f"{kind or level}: {text}"[:500], scanner, None, path)
    if level == "error" or kind == "bastion.failure" or scanner is None:
        return Gap(f"{kind or level}: {text}"[:500], scanner)
    return None
