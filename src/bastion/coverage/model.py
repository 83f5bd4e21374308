"""What a coverage report says, whatever tool wrote it: per file, the executable lines and
how often each ran."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["CoverageData", "CoverageFormat", "FileCoverage", "percent"]


class CoverageFormat(enum.Enum):
    """A coverage report format Bastion reads."""

    COBERTURA = "cobertura"
    LCOV = "lcov"
    JACOCO = "jacoco"
    COVERAGEPY = "coveragepy"


def percent(covered: int, total: int) -> float | None:
    """``covered`` of ``total`` as a percentage; None when there is nothing to measure."""
    return None if total == 0 else 100.0 * covered / total


@dataclass(frozen=True)
class FileCoverage:
    """The executable lines of one source file and their hit counts."""

    path: str
    """POSIX path relative to the repository root when it could be resolved, else as reported."""
    hits: Mapping[int, int]
    """Executable line number (1-based) -> times it ran (0: never)."""

    @property
    def total(self) -> int:
        """Executable lines."""
        return len(self.hits)

    @property
    def covered(self) -> int:
        """Executable lines that ran at least once."""
        return sum(1 for count in self.hits.values() if count > 0)

    @property
    def missed(self) -> tuple[int, ...]:
        """Executable lines that never ran, in order."""
        return tuple(sorted(line for line, count in self.hits.items() if count <= 0))

    @property
    def percent(self) -> float | None:
        """Line coverage in percent; None for a file without executable lines."""
        return percent(self.covered, self.total)


@dataclass(frozen=True)
class CoverageData:
    """One coverage report, read."""

    format: CoverageFormat
    """Which format it was written in."""
    files: Mapping[str, FileCoverage] = field(default_factory=dict)
    """Files by their (resolved) path."""

    @property
    def total(self) -> int:
        """Executable lines over every file."""
        return sum(f.total for f in self.files.values())

    @property
    def covered(self) -> int:
        """Covered lines over every file."""
        return sum(f.covered for f in self.files.values())

    @property
    def percent(self) -> float | None:
        """Overall line coverage; None for a report without executable lines."""
        return percent(self.covered, self.total)


def merge_hits(records: Iterable[tuple[str, Mapping[int, int]]]) -> dict[str, FileCoverage]:
    """Files from ``(path, hits)`` records; a file listed twice (Cobertura's inner classes,
    LCOV's one record per test) has its counts added line by line."""
    merged: dict[str, dict[int, int]] = {}
    for path, hits in records:
        lines = merged.setdefault(path, {})
        for line, count in hits.items():
            lines[line] = lines.get(line, 0) + max(count, 0)
    return {path: FileCoverage(path, lines) for path, lines in sorted(merged.items())}
