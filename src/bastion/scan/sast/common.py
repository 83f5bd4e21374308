"""What both sast tools share: their outcome as data, and reading the flagged lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bastion.findings import Finding

__all__ = ["MAX_EVIDENCE_CHARS", "Problem", "SourceLines", "ToolOutcome", "evidence_text", "redact_literals"]

MAX_SNIPPET_LINES = 10
"""Lines of a multi-line match that go into the fingerprint."""
MAX_EVIDENCE_LINES = 5
"""Lines of a match shown as evidence."""
MAX_EVIDENCE_CHARS = 400
"""Evidence longer than this (minified code) is cut with an ellipsis."""

_STRING_LITERAL = re.compile(r"""(?P<q>["'`])(?:\\.|(?!(?P=q)).)+(?P=q)""")


@dataclass(frozen=True)
class Problem:
    """Something a tool could not do; the scanner turns it into a notice."""

    message: str
    path: str | None = None
    """Relative path of the file concerned, or None for a run-wide problem."""


@dataclass
class ToolOutcome:
    """Everything one tool run produced: findings, and problems instead of exceptions."""

    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class SourceLines:
    """Reads files lazily and hands out the stripped lines of a region.

    Lines are split on ``\\n`` only, as bandit and semgrep count them (``str.splitlines``
    would also split on form feeds and Unicode separators and shift the numbers).
    """

    def __init__(self) -> None:
        self._cache: dict[Path, list[str] | None] = {}

    def region(self, path: Path, start: int, end: int) -> list[str]:
        """Stripped lines ``start..end`` (1-based, inclusive), at most ``MAX_SNIPPET_LINES``.

        An unreadable file gives ``[]``; the walk already reported why.
        """
        lines = self._lines(path)
        if lines is None or start < 1:
            return []
        end = max(start, min(end, start + MAX_SNIPPET_LINES - 1))
        return [line.strip() for line in lines[start - 1 : end]]

    def _lines(self, path: Path) -> list[str] | None:
        if path not in self._cache:
            try:
                text = path.read_bytes().decode("utf-8", errors="replace")
            except OSError:
                self._cache[path] = None
            else:
                self._cache[path] = [line.rstrip("\r") for line in text.split("\n")]
        return self._cache[path]


def evidence_text(lines: list[str]) -> str:
    """The evidence shown for a match: the first lines, cut to ``MAX_EVIDENCE_CHARS``."""
    text = "\n".join(lines[:MAX_EVIDENCE_LINES])
    if len(text) > MAX_EVIDENCE_CHARS:
        text = text[: MAX_EVIDENCE_CHARS - 1] + "\u2026"
    return text


def redact_literals(text: str) -> str:
    """Mask the content of every quoted string literal: ``pw = 'hunter2'`` -> ``pw = '***'``."""
    return _STRING_LITERAL.sub(lambda m: f"{m.group('q')}***{m.group('q')}", text)
