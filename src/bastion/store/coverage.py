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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bastion.advisories.versions import SUPPORTED_ECOSYSTEMS

__all__ = ["Coverage", "Gap", "skip_gap"]

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
class Coverage:
    """Whether an upload may fix findings, and where it may not."""

    complete: bool = True
    """False when the run itself failed: the upload then fixes nothing."""
    gaps: tuple[Gap, ...] = field(default_factory=tuple)
    incomplete_reason: str = ""

    def covers(self, scanner: str, rule_id: str, location: Mapping[str, Any] | None) -> bool:
        """True when the upload checked the scope of a stored finding (so its absence means fixed)."""
        if not self.complete:
            return False
        places = _places(location)
        return not any(gap.hides(scanner, rule_id, places) for gap in self.gaps)

    @property
    def partial(self) -> bool:
        """True when anything was not checked."""
        return not self.complete or bool(self.gaps)

    def describe(self) -> list[dict[str, str | None]]:
        """Every gap as plain JSON (the run-level one first)."""
        head = [] if self.complete else [Gap(self.incomplete_reason or "the run failed").to_dict()]
        return head + [gap.to_dict() for gap in self.gaps]


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
