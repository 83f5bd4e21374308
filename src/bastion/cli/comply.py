"""``bastion comply report``: compliance posture against NIST SP 800-53, CIS Controls and ISO 27001."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from bastion.cli.output import EXIT_CLEAN, EXIT_FINDINGS, command, error_console, write_text
from bastion.errors import InputError, UsageError

__all__ = ["comply_app", "register"]

comply_app = typer.Typer(
    name="comply",
    help=(
        "Compliance posture: every finding and process fact mapped to NIST SP 800-53 r5, CIS Controls v8 "
        "and ISO/IEC 27001:2022.\n\nExample: bastion comply report bastion.json --format html -o posture.html"
    ),
    no_args_is_help=True,
)

REPORT_HELP = (
    "Report the posture of PATH: a `bastion scan -f json` report, or a directory to scan now.\n\n"
    "Each control passes, fails (a finding maps to it, or its process evidence is missing) or is not "
    "assessed (no scanner that covers it ran). Exit 1 when a control fails, 0 otherwise, 2 on bad input.\n\n"
    "Example: bastion comply report report.json --framework cis-v8 -f html -o cis.html --history .posture"
)


def register(app: typer.Typer) -> None:
    """Add ``bastion comply`` to ``app``."""
    comply_app.command("report", help=REPORT_HELP)(command(report))
    app.add_typer(comply_app, name="comply")


def report(
    path: Path = typer.Argument(..., help="Scan report (JSON) or directory to scan."),
    framework: list[str] | None = typer.Option(
        None, "--framework", help="nist-800-53-r5, cis-v8 or iso27001-2022; repeatable (default: all three)."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or html."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to FILE."),
    history: Path | None = typer.Option(
        None, "--history", help="Keep this run's posture in DIR and show what changed since the last run."
    ),
    sbom: list[Path] | None = typer.Option(None, "--sbom", help="A CycloneDX SBOM produced for this build."),
    scanners: str | None = typer.Option(
        None, "--scanners", "-s", help="When PATH is a directory: scanners to run (default: all installed)."
    ),
) -> int:
    """Assess and print the compliance posture."""
    from bastion.comply.catalog import FRAMEWORKS
    from bastion.comply.history import load_history, save_run, trend
    from bastion.comply.posture import assess, read_report, sbom_evidence
    from bastion.comply.render import PostureFormat, render

    chosen = tuple(framework or FRAMEWORKS)
    unknown = [f for f in chosen if f not in FRAMEWORKS]
    if unknown:
        raise UsageError(f"unknown framework {unknown[0]!r} (choose from {', '.join(FRAMEWORKS)})")
    posture_format = PostureFormat.parse(fmt)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    document = _scan(path, scanners) if path.is_dir() else read_report(path)
    sboms: list[str] = []
    for candidate in [*(sbom or []), *(_found_sboms(path) if path.is_dir() else [])]:
        if not candidate.is_file():
            raise InputError(f"{candidate}: SBOM file not found")
        described = sbom_evidence(candidate)
        if described is None and candidate in (sbom or []):
            raise InputError(f"{candidate}: not a CycloneDX JSON SBOM")
        if described:
            sboms.append(described)
    posture = assess(document, chosen, sboms).to_dict()
    changes = None
    if history is not None:
        runs = load_history(history)
        changes = trend(runs, posture)
        saved = save_run(history, posture)
        error_console().print(f"posture kept in {saved}")
    text = render(posture, changes, posture_format, color=output is None and sys.stdout.isatty())
    write_text(text, output, "report")
    if output is not None:
        error_console().print(f"compliance report written to {output}")
    failed = any(body["summary"]["fail"] for body in posture["frameworks"].values())
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def _found_sboms(directory: Path) -> list[Path]:
    names = ("bom.json", "sbom.json", "bom.cdx.json", "sbom.cdx.json")
    return [directory / name for name in names if (directory / name).is_file()]


def _scan(path: Path, scanners: str | None) -> dict[str, object]:
    from bastion.cli.output import error_console
    from bastion.config import TRUST_FLAG, find_config_file, load_config, load_repo_config
    from bastion.report.json_report import to_document
    from bastion.runner import scan_project
    from bastion.scan.registry import Registry

    names = [s.strip() for s in scanners.split(",") if s.strip()] if scanners else None
    overrides = {"scanners": names, "fail_on": "none"}
    found = find_config_file(path)
    if found is None:
        settings = load_config(None, overrides)
    else:
        # The scanned directory's config is the code's own: it may not disable checks (a better
        # posture than deserved) nor turn on verification that sends found secrets elsewhere.
        settings, not_applied = load_repo_config(found, overrides)
        if not_applied:
            error_console().print(
                f"{found}: not applied: {', '.join(not_applied)} (scan with {TRUST_FLAG} to use them)"
            )
    result = scan_project(
        path, settings.scan, Registry.from_entry_points(), scanner_options=settings.scanners
    )
    return to_document(result)
