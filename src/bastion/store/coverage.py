"""What an uploaded scan really checked, read from its own skip, failure and notice records.

A stored finding is marked fixed only on positive evidence: the upload is a full scan, it ran
to completion, and nothing it reports as skipped, crashed or not checked touches the finding's
scanner, tool or file. Anything the upload could not check is a :class:`Gap`; a finding inside a
gap stays as it is. Scopes are read from the records every report carries:

- a scanner failure, a failed SARIF run (``executionSuccessful: false``) or an empty target:
  the upload covers nothing at all;
- a skip ``deps`` or ``sast.semgrep``: that scanner (or that tool's rules) is not covered;
- a skip ``deps PyPI/flask (requirements.txt:3)`` or ``iac main.tf`` (a file the scanner could not
  check): that scanner on that file is not covered; ``deps PyPI`` (an ecosystem) or any other
  wording: that whole scanner;
- a notice with a path: that file, for the notice's scanner (every scanner when none is named);
- a scanner's notice without a path (``advisory database holds no advisories``): that scanner.

Where an upload looked comes from its ``scope`` (:mod:`bastion.report.scope`): the scanned root
relative to the repository, the exclude patterns and each scanner's status. A stored finding is
inside the scope when it was stored by a scan of the same root (paths and fingerprints are
relative to it), its path matches no exclude, and its scanner ran. An upload without
a scope (older Bastion reports, other tools' SARIF) proves only the files it shows were read: a
finding of a scanner is fixable only in a file (or URL, package) where the same scanner reported
something in this upload, or that a SARIF run lists as an ``analysisTarget`` artifact; its paths
are taken as of the repository's top (never matched with findings of a known other root).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import pathspec

from bastion.advisories.versions import SUPPORTED_ECOSYSTEMS

__all__ = ["Coverage", "Gap", "Scope", "place_of", "proven_places", "skip_gap"]

_SKIP_PATH = re.compile(r"\((?P<path>[^()]+?)(?::\d+)?\)\s*$")
_SCANNER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_ECOSYSTEMS = frozenset(e.lower() for e in SUPPORTED_ECOSYSTEMS)
IGNORED_PATHLESS_KINDS = frozenset({"binary"})
"""Counted notices without paths ("12 binary files skipped"): no scanner reads binary files,
so they cannot hide a finding that a text scanner would report."""


@dataclass(frozen=True)
class Gap:
    """One scope the upload did not check."""

    reason: str
    """Why, in the uploader's words (``skipped deps: no advisory database``)."""
    scanner: str | None = None
    """The scanner not covered; None: every scanner."""
    rule_prefix: str | None = None
    """Only findings whose rule id starts with this (``sast.semgrep.``); None: all of them."""
    path: str | None = None
    """Only findings at this file, URL or package; None: everywhere."""

    def hides(self, scanner: str, rule_id: str, places: tuple[str, ...]) -> bool:
        """True when a finding of ``scanner``/``rule_id`` at any of ``places`` is inside the gap."""
        if self.scanner is not None and self.scanner != scanner:
            return False
        if self.rule_prefix is not None and not rule_id.startswith(self.rule_prefix):
            return False
        return self.path is None or self.path in places

    def to_dict(self) -> dict[str, str | None]:
        """Plain JSON for the scan record and the API."""
        return {
            "scanner": self.scanner,
            "rule_prefix": self.rule_prefix,
            "path": self.path,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Scope:
    """Where one run looked: its root in the repository, its excludes, the scanners that ran."""

    root: str
    """POSIX, relative to the repository: ``.`` or ``services/api``."""
    excludes: tuple[str, ...] = ()
    listed: frozenset[str] = frozenset()
    """Every scanner the run names."""
    ran: frozenset[str] = frozenset()
    """Scanners that ran (fully or in part; their skips are gaps)."""

    def describe(self) -> dict[str, Any]:
        """Plain JSON for the API: where the run looked and which scanners ran."""
        return {"root": self.root, "excludes": list(self.excludes), "ran": sorted(self.ran)}

    @cached_property
    def _excluded(self) -> pathspec.PathSpec | None:
        return pathspec.GitIgnoreSpec.from_lines(self.excludes) if self.excludes else None

    def relative(self, stored_root: str | None, path: str) -> str | None:
        """``path`` (of a finding stored by a scan of ``stored_root``) as this run would report
        it, or None when this run did not look there in the same terms.

        Paths and fingerprints are relative to the scanned root, so only a run of the same root
        can say a finding is gone: a scan of ``api/`` reports ``api/app.py``'s finding as
        ``app.py``, a different identity, and must not fix the other. A finding stored before
        roots were recorded (None) is taken as of the repository's top (``bastion scan``'s
        default target), so a run of the whole repository may fix it."""
        if (stored_root or ".") != self.root:
            return None
        normalized = posixpath.normpath(path)
        if normalized.startswith("../") or normalized == ".." or posixpath.isabs(normalized):
            return None
        if self._excluded is not None and self._excluded.match_file(normalized):
            return None
        return path


def place_of(location: Mapping[str, Any] | None) -> str | None:
    """The one place that identifies where a finding is: its path, else URL, else package."""
    places = _places(location)
    return places[0] if places else None


@dataclass(frozen=True)
class Coverage:
    """Whether an upload may fix findings, and where it may not."""

    complete: bool = True
    """False when the run itself failed: the upload then fixes nothing."""
    gaps: tuple[Gap, ...] = field(default_factory=tuple)
    incomplete_reason: str = ""
    scopes: tuple[Scope, ...] = ()
    """One per run that said where it looked."""
    proven: frozenset[tuple[str, str]] = frozenset()
    """(scanner, place) pairs the upload shows were read, for scanners without a scope."""

    def scope_for(self, scanner: str) -> Scope | None:
        """The scope of the run that names ``scanner``, or None (that run said nothing)."""
        return next((scope for scope in self.scopes if scanner in scope.listed), None)

    def covers(
        self,
        scanner: str,
        rule_id: str,
        location: Mapping[str, Any] | None,
        stored_root: str | None = None,
    ) -> bool:
        """True when the upload checked the scope of a stored finding (so its absence means fixed);
        ``stored_root`` is the root its path is relative to (None: unknown)."""
        if not self.complete:
            return False
        places = _places(location)
        path = location.get("path") if isinstance(location, Mapping) else None
        scope = self.scope_for(scanner)
        if scope is not None:
            if scanner not in scope.ran:
                return False
            if isinstance(path, str) and path:
                inside = scope.relative(stored_root, path)
                if inside is None:
                    return False
                places = (inside, *(p for p in places if p != path))
            elif (
                places
                and places[0].startswith(("http://", "https://"))
                and (scanner, _origin(places[0])) not in self.proven
            ):
                # A scope is about files: a URL finding is fixable only when this upload shows
                # the same scanner reached that site (a scan of staging says nothing of prod).
                return False
        else:
            if path and (stored_root or ".") != ".":
                return False  # a run of unknown root is taken as of the top, like old findings
            if not places or (scanner, places[0]) not in self.proven:
                return False
        return not any(gap.hides(scanner, rule_id, places) for gap in self.gaps)

    def merged(self, other: Coverage) -> Coverage:
        """This coverage and another run's, as one upload."""
        reasons = "; ".join(c.incomplete_reason for c in (self, other) if not c.complete)
        return Coverage(
            self.complete and other.complete,
            self.gaps + other.gaps,
            reasons,
            self.scopes + other.scopes,
            self.proven | other.proven,
        )

    @property
    def partial(self) -> bool:
        """True when anything was not checked."""
        return not self.complete or bool(self.gaps)

    def describe(self) -> list[dict[str, str | None]]:
        """Every gap as plain JSON (the run-level one first)."""
        head = [] if self.complete else [Gap(self.incomplete_reason or "the run failed").to_dict()]
        return head + [gap.to_dict() for gap in self.gaps]


def proven_places(findings: Iterable[tuple[str, Mapping[str, Any] | None]]) -> frozenset[tuple[str, str]]:
    """(scanner, place) of each (scanner, location) an upload reported: files it shows it read,
    and for a URL also its site (``origin:https://host:port``)."""
    proven: set[tuple[str, str]] = set()
    for scanner, location in findings:
        place = place_of(location)
        if place:
            proven.add((scanner, place))
            if place.startswith(("http://", "https://")):
                proven.add((scanner, _origin(place)))
    return frozenset(proven)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"origin:{parts.scheme}://{parts.netloc}".lower()


def _places(location: Mapping[str, Any] | None) -> tuple[str, ...]:
    if not isinstance(location, Mapping):
        return ()
    return tuple(str(location[key]) for key in ("path", "url", "purl") if location.get(key))


def skip_gap(component: str, reason: str, scanners: set[str] | None = None) -> Gap:
    """The gap of a skip record ``component``: ``deps``, ``sast.semgrep`` or ``deps PyPI/x (file:3)``.

    A component whose scanner cannot be read covers every scanner (conservative)."""
    text = f"skipped {component}: {reason}"
    head, _, rest = component.strip().partition(" ")
    scanner, dot, _tool = head.partition(".")
    if not _SCANNER_NAME.match(scanner) or (scanners is not None and scanner not in scanners and scanners):
        return Gap(text)
    prefix = f"{head}." if dot else None
    return Gap(text, scanner, prefix, _skip_path(rest.strip()))


def _skip_path(rest: str) -> str | None:
    """The one file a skip is about, or None when it may be about more (then: the whole scanner)."""
    if not rest:
        return None
    match = _SKIP_PATH.search(rest)
    if match:
        return match.group("path").strip()
    if any(c.isspace() for c in rest) or rest.split("/")[0].lower() in _ECOSYSTEMS:
        return None
    return rest
