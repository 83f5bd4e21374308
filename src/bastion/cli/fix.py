"""``bastion fix [PATH]``: upgrade vulnerable dependencies as a patch and a pull-request text."""

from __future__ import annotations

from pathlib import Path

import typer

from bastion.cli.output import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, command, error_console, write_text
from bastion.errors import InputError, UsageError

__all__ = ["register"]

HELP = """Upgrade vulnerable dependencies: a patch and a pull-request text.

Raises each vulnerable dependency of PATH to the smallest version that fixes every known
advisory, in the manifest that declares it (requirements*.txt, pyproject.toml, Pipfile,
package.json, composer.json, pom.xml versions and properties (parent poms too), build.gradle(.kts),
go.mod, Cargo.toml, Gemfile, .csproj and Directory.Packages.props).

Prints a unified diff (or writes it with -o PATCH) and, with --pr-body FILE, a pull-request
description (what, why, each advisory, known-exploited first). Nothing is changed without
--write; with it, the manifests are rewritten and each lockfile is refreshed by the
ecosystem's own tool when it is installed (uv, pip-compile, poetry, npm, pnpm, yarn, cargo,
bundle, go), offline first where the tool can (cargo, uv, pnpm, bundle, go: from what the machine
holds), then from its registry with bounded waits. A lockfile that could not be refreshed (no
tool, no registry, the tool's error) is a "lockfile not refreshed: REASON" line, even with -q,
and the description says which command to run.

Exit codes: 0 every vulnerable dependency is fixed by the change, 1 some are not (no fixed
version, a constraint to edit by hand) or, with --write, a lockfile was not refreshed, 2 usage
or input error (no advisory database).

Example: bastion fix . --pr-body pr.md -o fix.patch && git apply fix.patch
Example: bastion fix services/api --write
"""


def register(app: typer.Typer) -> None:
    """Add ``bastion fix`` to ``app``."""
    app.command("fix", help=HELP)(command(fix))


def fix(
    path: Path = typer.Argument(Path("."), help="Directory to fix."),
    write: bool = typer.Option(False, "--write", help="Rewrite the manifests and refresh the lockfiles."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only show the diff (the default; refuses --write)."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the unified diff to PATCH."),
    pr_body: Path | None = typer.Option(None, "--pr-body", help="Write the pull-request text to FILE."),
    database: Path | None = typer.Option(None, "--db", help="Advisory database (default: bastion db's)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but the diff."),
) -> int:
    """Upgrade vulnerable dependencies."""
    from bastion.config import ScanConfig
    from bastion.fix import (
        build_fix,
        plan_upgrades,
        pull_request_text,
        refresh_lockfiles,
        summary_line,
        write_changes,
    )
    from bastion.runner import scan_project
    from bastion.scan.engine import Concurrency
    from bastion.scan.registry import Registry

    if write and dry_run:
        raise UsageError("--write and --dry-run exclude each other")
    if not path.is_dir():
        raise InputError(f"{path}: not a directory")
    options: dict[str, dict[str, object]] = (
        {"deps": {"database": str(database.absolute())}} if database else {}
    )
    config = ScanConfig(scanners=["deps"], concurrency=Concurrency.THREAD, jobs=1)
    scanned = scan_project(path, config, Registry.from_entry_points(), scanner_options=options)
    errors = error_console()
    if scanned.scan.skips and not quiet:
        count = len(scanned.scan.skips)
        errors.print(f"{count} packages or ecosystems not checked (bastion scan --scanners deps lists them)")
    if any(s.component == "deps" and "no advisory database" in s.reason for s in scanned.scan.skips):
        raise InputError(
            "no advisory database: nothing was checked, so nothing can be fixed (run bastion db update)"
        )
    for failure in scanned.scan.failures:
        errors.print(failure.describe())
    if scanned.scan.failures:
        return EXIT_ERROR
    result = build_fix(path, plan_upgrades(scanned.findings))
    if write:
        written = write_changes(result)
        refresh_lockfiles(result, run=True)
        if not quiet:
            for manifest in written:
                errors.print(f"wrote {manifest}")
    else:
        refresh_lockfiles(result, run=False)
    diff = result.diff()
    if output is not None or diff:
        write_text(diff, output, "patch")
    if pr_body is not None:
        write_text(pull_request_text(result), pr_body, "pull-request description")
    stale = [outcome for outcome in result.lockfiles if write and not outcome.refreshed]
    if not quiet:
        for applied in result.unfixed:
            up = applied.upgrade
            errors.print(f"not fixed: {up.package} {up.current} ({up.path}): {applied.note}")
        for outcome in result.lockfiles:
            errors.print(outcome.describe())
        errors.print(
            summary_line(result) + ("" if write else " · dry run: nothing written (--write applies it)")
        )
    else:
        for outcome in stale:  # manifests and lockfile now disagree: never silent
            errors.print(outcome.describe())
    return EXIT_FINDINGS if result.unfixed or stale else EXIT_CLEAN
