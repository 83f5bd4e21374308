"""``bastion import``: another tool's report as Bastion's report; and the conversion ``bastion
upload --tool`` sends to the server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.output import EXIT_CLEAN, EXIT_FINDINGS, command, error_console, write_report
from bastion.errors import InputError, UsageError
from bastion.findings import Severity
from bastion.report import ReportFormat

if TYPE_CHECKING:
    from bastion.imports import ImportResult

# The parsers load the IaC policies, the advisory tables and the store's scrubber: they are
# imported when a command runs, not when `bastion --help` starts (tests/cli/test_startup.py).
TOOLS = (
    "gitleaks, trufflehog, trivy, grype, osv-scanner, pip-audit, npm-audit, checkov, tfsec, kics, "
    "semgrep, bandit, zap, nuclei, cyclonedx, spdx"
)
"""The ``--tool`` names, for the help text (a test checks them against the parsers)."""
MAX_BYTES = 256 * 1024 * 1024
"""The largest report read; :data:`bastion.imports.decode.MAX_BYTES` (a test keeps them equal)."""

__all__ = ["prepare_upload", "read_import", "register"]

IMPORT_HELP = f"""Convert another tool's report into Bastion's report (JSON unless --format says otherwise).

Tools: {TOOLS}. The tool is detected from the content unless --tool names it
(an ambiguous or unknown file is refused, listing the candidates). Findings get rule ids
namespaced by the tool (trivy.CVE-2023-1234), Bastion severities, controls and stable
fingerprints; every secret in the report is redacted. Exit 0, or 1 with --fail-on when a
finding is at or above it; 2 for an unreadable or foreign file.

Example: bastion import trivy.json --tool trivy -o trivy.bastion.json
"""


def register(app: typer.Typer) -> None:
    """Add ``import`` to ``app``."""
    app.command("import", help=IMPORT_HELP)(command(import_))


def read_import(file: Path, tool: str | None, max_bytes: int = MAX_BYTES) -> ImportResult:
    """Read and import ``file``; :class:`InputError` (one line) when it cannot be."""
    from bastion.imports import import_document
    from bastion.imports.decode import decode

    return import_document(decode(_read(file, max_bytes), str(file), max_bytes), tool)


def _read(file: Path, max_bytes: int) -> bytes:
    try:
        size = file.stat().st_size
        if size > max_bytes:
            raise InputError(f"{file}: {size:,} bytes is larger than the {max_bytes:,} bytes an import reads")
        return file.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{file}: not found") from None
    except IsADirectoryError:
        raise InputError(f"{file}: is a directory, not a report") from None
    except OSError as exc:
        raise InputError(f"{file}: cannot read: {exc.strerror or exc}") from None


def prepare_upload(data: bytes, name: str, tool: str | None) -> bytes:
    """What ``bastion upload`` sends: :func:`bastion.imports.convert.prepare_upload`."""
    from bastion.imports.convert import prepare_upload as convert

    return convert(data, name, tool, MAX_BYTES)


def import_(
    file: Path = typer.Argument(..., help="The other tool's report (JSON, JSON lines or XML)."),
    tool: str | None = typer.Option(None, "--tool", help="The tool that wrote it (default: detected)."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report here (default: stdout)."
    ),
    fmt: ReportFormat = typer.Option(
        ReportFormat.JSON, "--format", "-f", help="Report format.", case_sensitive=False
    ),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 when a finding is at or above this severity (default: never)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but the report."),
) -> int:
    """Convert one report and write it in ``fmt``."""
    try:
        threshold = Severity.parse(fail_on) if fail_on else None
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None
    from bastion.imports.convert import to_gate

    result = read_import(file, tool)
    gate = to_gate(result, str(file), threshold)
    write_report(gate, fmt, output)
    if not quiet and (output is not None or fmt is not ReportFormat.TABLE or not sys.stdout.isatty()):
        errors = error_console()
        for skip in gate.scan.skips:
            errors.print(skip.describe())
        errors.print(
            f"{file}: {result.tool} report, {len(result.findings)} findings, "
            f"{len(result.suppressed)} set aside by the report, {len(result.skips)} skipped"
            + (f" · written to {output}" if output is not None else "")
        )
    return EXIT_FINDINGS if gate.failed else EXIT_CLEAN
