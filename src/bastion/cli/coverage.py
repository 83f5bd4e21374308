"""``bastion coverage REPORT``: gate on test coverage (overall, per file, and new code)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TypeVar

import typer

from bastion.cli.output import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, command, error_console, write_report
from bastion.errors import UsageError
from bastion.findings import Severity

__all__ = ["register"]

_E = TypeVar("_E", bound=enum.Enum)

HELP = """Gate on a coverage report: Cobertura XML, LCOV, JaCoCo XML or coverage.py JSON.

Checks overall line coverage (--min), each file (--min-file) and the lines changed since a
base ref (--min-new with --base: diff coverage, SonarQube's "new code" gate). Falling short
is a finding (rule family coverage.*, mapped to NIST SA-11, CIS 16.12, ISO A.8.29) that
gates, reports and uploads like any scanner's: --format sarif, gitlab, json, junit...
Defaults come from the \\[coverage] table of bastion.toml or \\[tool.bastion.coverage].

A changed file that the report does not list is counted as a skip, never as covered;
--strict fails on it.

Exit codes: 0 every threshold met, 1 a threshold missed, 2 usage or input error.

Example: bastion coverage coverage.xml --min 80
Example: bastion coverage lcov.info --min-new 90 --base origin/main --format sarif -o coverage.sarif
"""


def register(app: typer.Typer) -> None:
    """Add ``bastion coverage`` to ``app``."""
    app.command("coverage", help=HELP)(command(coverage))


def coverage(
    report: Path = typer.Argument(..., help="The coverage report file."),
    minimum: float | None = typer.Option(None, "--min", help="Minimum overall line coverage, percent."),
    min_file: float | None = typer.Option(None, "--min-file", help="Minimum line coverage of each file."),
    min_new: float | None = typer.Option(
        None, "--min-new", help="Minimum coverage of the lines changed since --base."
    ),
    base: str | None = typer.Option(None, "--base", help="Git ref new code is measured from (origin/main)."),
    root: Path = typer.Option(
        Path("."), "--root", help="Repository root the report's file names are resolved against."
    ),
    report_format: str | None = typer.Option(
        None, "--report-format", help="cobertura, lcov, jacoco or coveragepy (default: detected)."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="Output: table, json, sarif, gitlab, junit..."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to FILE."),
    fail_on: str = typer.Option("high", "--fail-on", help="Lowest severity failing: info..critical, none."),
    strict: bool = typer.Option(False, "--strict", help="Fail when a changed file is not in the report."),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Config file (default: bastion.toml or pyproject.toml in --root)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but the report."),
) -> int:
    """Read a coverage report and gate on it."""
    from bastion.config import find_config_file
    from bastion.coverage import CoverageFormat, Thresholds, changed_lines, check, read_report
    from bastion.coverage.diff import untracked_lines
    from bastion.coverage.settings import load_settings
    from bastion.gate import GatePolicy, evaluate
    from bastion.report import ReportFormat
    from bastion.results import ScanResult

    output_format = _choice(ReportFormat, fmt, "--format")
    source_format = _choice(CoverageFormat, report_format, "--report-format") if report_format else None
    threshold = None if fail_on.strip().lower() == "none" else _severity(fail_on)
    if not root.is_dir():
        raise UsageError(f"--root {root}: not a directory")
    settings = load_settings(config or find_config_file(root))
    base_ref = base or settings.base
    new_minimum = min_new if min_new is not None else settings.min_new
    if min_new is not None and base_ref is None:
        raise UsageError("--min-new needs --base REF (or base in [coverage] of bastion.toml)")
    data = read_report(report, root, source_format)
    changed = None
    if base_ref is not None:
        # Untracked files count when the report measures them; build outputs it does not are no code.
        untracked = {k: v for k, v in untracked_lines(root).items() if k in data.files}
        changed = {**untracked, **changed_lines(root, base_ref)}
    outcome = check(
        data,
        Thresholds(
            total=minimum if minimum is not None else settings.min,
            per_file=min_file if min_file is not None else settings.min_file,
            new=new_minimum,
        ),
        _shown_path(report, root),
        changed,
        base_ref or "",
    )
    scan = ScanResult(root=root, scanners=["coverage"], findings=outcome.findings)
    scan.skips.extend(outcome.skips)
    scan.files_scanned = len(data.files)
    result = evaluate(scan, GatePolicy(threshold=threshold, strict=strict), read_text=lambda _path: None)
    write_report(result, output_format, output)
    if not quiet:
        errors = error_console()
        if output_format is not ReportFormat.TABLE:
            for skip in outcome.skips:
                errors.print(skip.describe())
        errors.print(f"{data.format.value}: {outcome.summary()}")
    if result.errored:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.failed else EXIT_CLEAN


def _shown_path(report: Path, root: Path) -> str:
    """The report's path relative to the root when inside it, else its name (no machine path)."""
    try:
        return report.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return report.name


def _choice(enum_type: type[_E], value: str, flag: str) -> _E:
    members = {str(m.value): m for m in enum_type}
    key = value.strip().lower()
    if key not in members:
        raise UsageError(f"{flag}: choose from {', '.join(members)} (got {value!r})")
    return members[key]


def _severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None
