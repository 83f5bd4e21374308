"""What a run produced, before any decision: findings, notices, skips, failures, suppressions.

Ground floor: scanners fill these, the gate decides on them, reports render them, and none of
those has to import another to share them. Imports only :mod:`bastion.findings`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.findings import Finding

__all__ = [
    "UNCHECKED_KINDS",
    "Notice",
    "NoticeKind",
    "ScanResult",
    "ScannerFailure",
    "Skip",
    "Suppressed",
]


class NoticeKind(enum.Enum):
    """Why a notice was raised; lets reports group and count them."""

    BINARY = "binary"
    TOO_LARGE = "too-large"
    UNREADABLE = "unreadable"
    ENCODING = "encoding"
    SYMLINK_OUTSIDE = "symlink-outside"
    SPECIAL_FILE = "special-file"
    EMPTY_TARGET = "empty-target"
    SCANNER = "scanner"


UNCHECKED_KINDS = frozenset({NoticeKind.TOO_LARGE, NoticeKind.UNREADABLE})
"""Notices about content that exists in the target but no scanner looked at; ``--strict`` fails
on them as on skip records. Binary and special files, symlinks leaving the target and an empty
target are not content the scanners would read, so they stay plain notices."""


@dataclass(frozen=True)
class Notice:
    """Something the run could not do or chose not to do; shown to the user, never fatal."""

    kind: NoticeKind
    message: str
    path: str | None = None
    scanner: str | None = None

    def describe(self) -> str:
        """One line: ``path: message`` or just the message."""
        return f"{self.path}: {self.message}" if self.path else self.message

    @property
    def unchecked(self) -> bool:
        """True when this notice means a file of the target was not checked (too large, unreadable)."""
        return self.kind in UNCHECKED_KINDS

    def to_dict(self) -> dict[str, Any]:
        """Serialize for the JSON report."""
        return {
            "kind": self.kind.value,
            "message": self.message,
            "path": self.path,
            "scanner": self.scanner,
        }


@dataclass(frozen=True)
class Skip:
    """A scanner, or one tool inside it, that did not run, and why."""

    component: str
    """``sast.semgrep``, ``deps``, ..."""
    reason: str

    def describe(self) -> str:
        """The one line the CLI prints: ``skipped sast.semgrep: semgrep not installed``."""
        return f"skipped {self.component}: {self.reason}"


@dataclass(frozen=True)
class ScannerFailure:
    """A scanner that raised an unexpected error; the run reports it and exits 2."""

    scanner: str
    error: str

    def describe(self) -> str:
        """One line for the terminal."""
        return f"scanner {self.scanner} failed: {self.error}"


@dataclass(frozen=True)
class Suppressed:
    """A finding silenced by an inline comment or a configured ignore, kept for the summary and reports."""

    finding: Finding
    reason: str


@dataclass
class ScanResult:
    """Everything one run produced, before gating: the engine's scan of a tree or a DAST run of a URL."""

    root: Path
    scanners: list[str]
    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    failures: list[ScannerFailure] = field(default_factory=list)
    files_scanned: int = 0
    bytes_scanned: int = 0
    duration_s: float = 0.0
    excludes: tuple[str, ...] = ()
    """The walk's exclude patterns; reports carry them as part of their scope."""
    gitignore: bool = True
    """Whether the walk left out what .gitignore files name."""
    history: str | None = None
    """Git history read (``all``, ``since``, ``staged``), or None for the working tree only."""
    suppressed: list[Suppressed] = field(default_factory=list)
    """Findings the run itself set aside before the gate (a DAST rules file's IGNORE and
    OUTOFSCOPE entries); the gate counts them with the other suppressed findings."""
    stage: str | None = None
    """The pipeline stage whose settings the run applied (``bastion scan --stage NAME``), or None;
    SARIF files each stage's code-scanning alerts under a category of its own."""
