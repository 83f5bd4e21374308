"""The coverage gate: overall, per-file and new-code thresholds turned into findings.

Findings use the one model (rule family ``coverage.*``), so ``--fail-on``, baselines, every
report format and the server treat them like any scanner's. A changed file the report does
not measure is not counted as covered or uncovered: it is a visible skip (``--strict``
fails on it), never a silent pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bastion.coverage.model import CoverageData, FileCoverage, percent
from bastion.coverage.rules import rule
from bastion.findings import Finding, Location, Severity, make_fingerprint
from bastion.results import Skip

__all__ = ["CoverageOutcome", "Thresholds", "check", "format_ranges"]

SCANNER = "coverage"


@dataclass(frozen=True)
class Thresholds:
    """Minimum coverages in percent; None leaves that check out."""

    total: float | None = None
    """Overall line coverage (``--min``)."""
    per_file: float | None = None
    """Each file's line coverage (``--min-file``)."""
    new: float | None = None
    """Coverage of the changed lines (``--min-new``, with a base ref)."""


@dataclass(frozen=True)
class NewCode:
    """Coverage of the lines changed since the base ref."""

    base: str
    covered: int
    total: int
    uncovered: Mapping[str, tuple[int, ...]]
    """Path -> changed executable lines no test ran."""
    unmeasured: tuple[str, ...]
    """Changed files the coverage report does not list."""

    @property
    def percent(self) -> float | None:
        """Diff coverage; None when no changed line is executable."""
        return percent(self.covered, self.total)


@dataclass(frozen=True)
class CoverageOutcome:
    """What the gate measured and decided."""

    data: CoverageData
    thresholds: Thresholds
    findings: list[Finding] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    new_code: NewCode | None = None

    def summary(self) -> str:
        """One line: overall and new-code coverage against their minimums."""
        overall = _pct(self.data.percent)
        text = f"coverage {overall} ({self.data.covered}/{self.data.total} lines"
        text += f", min {self.thresholds.total:g}%)" if self.thresholds.total is not None else ")"
        if self.new_code is not None:
            new = self.new_code
            text += f" · new code since {new.base} {_pct(new.percent)} ({new.covered}/{new.total} lines"
            text += f", min {self.thresholds.new:g}%)" if self.thresholds.new is not None else ")"
            if new.unmeasured:
                text += f" · {len(new.unmeasured)} changed files not in the report"
        return text


def check(
    data: CoverageData,
    thresholds: Thresholds,
    report_path: str,
    changed: Mapping[str, frozenset[int]] | None = None,
    base: str = "",
) -> CoverageOutcome:
    """Apply ``thresholds`` to ``data``; ``changed`` (path -> changed lines since ``base``)
    enables the new-code check. ``report_path`` locates findings about the whole report."""
    findings: list[Finding] = []
    skips: list[Skip] = []
    overall = data.percent
    if thresholds.total is not None and overall is not None and overall < thresholds.total:
        findings.append(
            _finding(
                "coverage.overall-below-min",
                Location(path=report_path),
                f"line coverage is {overall:.1f}% ({data.covered}/{data.total} lines), below the "
                f"minimum of {thresholds.total:g}%",
                {
                    "percent": round(overall, 2),
                    "covered": data.covered,
                    "total": data.total,
                    "minimum": thresholds.total,
                },
            )
        )
    if thresholds.per_file is not None:
        findings.extend(_file_findings(data, thresholds.per_file))
    new_code = None
    if changed is not None:
        new_code = _new_code(data, changed, base)
        skips.extend(
            Skip("coverage.new-code", f"{path}: changed since {base} but not in the coverage report")
            for path in new_code.unmeasured
        )
        findings.extend(_new_code_findings(new_code, thresholds.new, report_path))
    return CoverageOutcome(data, thresholds, findings, skips, new_code)


def _file_findings(data: CoverageData, minimum: float) -> list[Finding]:
    found: list[Finding] = []
    for file in data.files.values():
        value = file.percent
        if value is None or value >= minimum:
            continue
        missed = file.missed
        found.append(
            _finding(
                "coverage.file-below-min",
                Location(path=file.path, start_line=missed[0] if missed else None),
                f"{value:.1f}% of {file.total} lines covered, below the per-file minimum of {minimum:g}%; "
                f"never ran: {format_ranges(missed)}",
                {
                    "percent": round(value, 2),
                    "covered": file.covered,
                    "total": file.total,
                    "minimum": minimum,
                    "missed_lines": list(missed),
                },
            )
        )
    return found


def _new_code(data: CoverageData, changed: Mapping[str, frozenset[int]], base: str) -> NewCode:
    covered = total = 0
    uncovered: dict[str, tuple[int, ...]] = {}
    unmeasured: list[str] = []
    for path, lines in sorted(changed.items()):
        file: FileCoverage | None = data.files.get(path)
        if file is None:
            if lines:
                unmeasured.append(path)
            continue
        measured = [line for line in sorted(lines) if line in file.hits]
        ran = [line for line in measured if file.hits[line] > 0]
        covered += len(ran)
        total += len(measured)
        missed = tuple(line for line in measured if file.hits[line] <= 0)
        if missed:
            uncovered[path] = missed
    return NewCode(base, covered, total, uncovered, tuple(unmeasured))


def _new_code_findings(new: NewCode, minimum: float | None, report_path: str) -> list[Finding]:
    found: list[Finding] = []
    value = new.percent
    if minimum is not None and value is not None and value < minimum:
        found.append(
            _finding(
                "coverage.new-code-below-min",
                Location(path=report_path),
                f"{value:.1f}% of the {new.total} executable lines changed since {new.base} are covered "
                f"({new.covered}), below the minimum of {minimum:g}%",
                {
                    "percent": round(value, 2),
                    "covered": new.covered,
                    "total": new.total,
                    "minimum": minimum,
                    "base": new.base,
                },
            )
        )
    for path, lines in new.uncovered.items():
        found.append(
            _finding(
                "coverage.new-lines-uncovered",
                Location(path=path, start_line=lines[0], end_line=lines[-1]),
                f"{len(lines)} changed lines never ran: {format_ranges(lines)}",
                {"lines": list(lines), "base": new.base},
            )
        )
    return found


def _finding(rule_id: str, location: Location, message: str, metadata: dict[str, object]) -> Finding:
    info = rule(rule_id)
    # The fingerprint leaves the numbers out: a baseline accepts "this file is under the
    # minimum", and keeps accepting it while the percentage moves.
    return Finding(
        rule_id=rule_id,
        scanner=SCANNER,
        title=info.title,
        severity=info.severity or Severity.HIGH,
        location=location,
        message=message,
        fingerprint=make_fingerprint(rule_id, location, rule_id),
        controls=info.controls,
        fix=info.fix,
        metadata=metadata,
    )


def format_ranges(lines: tuple[int, ...] | list[int], limit: int = 12) -> str:
    """``1-3, 7, 9-10`` for ``[1, 2, 3, 7, 9, 10]``; past ``limit`` ranges, ``... (+N more)``."""
    ranges: list[str] = []
    start = prev = None
    for line in lines:
        if prev is not None and line == prev + 1:
            prev = line
            continue
        if start is not None:
            ranges.append(f"{start}-{prev}" if start != prev else str(start))
        start = prev = line
    if start is not None:
        ranges.append(f"{start}-{prev}" if start != prev else str(start))
    if len(ranges) > limit:
        return ", ".join(ranges[:limit]) + f" ... (+{len(ranges) - limit} more)"
    return ", ".join(ranges) or "-"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"
