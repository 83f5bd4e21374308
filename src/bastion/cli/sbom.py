"""``bastion sbom PATH -o FILE [--format cyclonedx|spdx] [--vulns]``: a bill of materials of a tree."""

from __future__ import annotations

from pathlib import Path

import typer

from bastion.cli.output import EXIT_CLEAN, command, error_console, write_text
from bastion.errors import InputError, UsageError

__all__ = ["register"]

HELP = "\n\n".join(
    (
        "Write a software bill of materials for PATH (a directory or one lockfile).",
        "Reads the same manifests as the deps scanner (lockfiles, requirements, pom.xml, "
        "go.mod...); each package appears with its purl and the file and line that declares it.",
        "With --vulns (CycloneDX), each component's known vulnerabilities from the advisory "
        "database (`bastion db update`, or `bastion db import PATH` offline) are added, each in "
        "triage: the version is affected, reachability is not analysed. The database is --db FILE, "
        "else the database key of \\[scanners.deps] in the --config file (or, with "
        "--trust-repo-config, in the config found in PATH), else $BASTION_ADVISORY_DB, else the "
        "user cache, as for bastion scan; a database named by --db or a config that is missing or "
        "not a database is an error (exit 2). Without any database the SBOM is still written, with "
        "no vulnerabilities list and the property bastion:vulnerabilities = not-checked, and a "
        "WARNING says so.",
        "Example: bastion sbom . -o bom.json\n"
        "Example: bastion sbom . --format spdx -o bom.spdx.json\n"
        "Example: bastion sbom . --vulns -o bom.vex.json\n"
        "Example: bastion sbom . --vulns --db advisories.sqlite3 -o bom.vex.json",
    )
)


def register(app: typer.Typer) -> None:
    """Add ``bastion sbom`` to ``app``."""
    app.command("sbom", help=HELP)(command(sbom))


def sbom(
    path: Path = typer.Argument(Path("."), help="Directory or manifest to inventory."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to FILE (default: stdout)."),
    fmt: str = typer.Option("cyclonedx", "--format", "-f", help="cyclonedx (1.6 JSON) or spdx (2.3 JSON)."),
    env: str | None = typer.Option(
        None, "--env", help="Also list what this Python interpreter has installed."
    ),
    vulns: bool = typer.Option(
        False,
        "--vulns",
        help="CycloneDX only: add each component's known vulnerabilities (VEX, in triage) "
        "from the advisory database.",
    ),
    database: Path | None = typer.Option(
        None,
        "--db",
        help="With --vulns: the advisory database file (default: $BASTION_ADVISORY_DB, else the user "
        "cache, as for bastion scan).",
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="With --vulns: read the database from \\[scanners.deps] of this config file.",
    ),
    trust_repo_config: bool = typer.Option(
        False,
        "--trust-repo-config",
        help="With --vulns: use the database named by the config found in PATH (by default the "
        "scanned code's own config cannot choose which file Bastion reads).",
    ),
    quiet: bool = typer.Option(
        False,
        "--quiet",
        "-q",
        help="Do not list the packages that have no exact version, nor the summary line; "
        "files that could not be read are still reported.",
    ),
) -> int:
    """Write a CycloneDX or SPDX SBOM of PATH."""
    from bastion.sbom.build import SbomFormat, inventory, render

    choice = SbomFormat.parse(fmt)
    if vulns and choice is not SbomFormat.CYCLONEDX:
        raise UsageError(
            f"--vulns: only with --format cyclonedx (SPDX 2.3 has no vulnerabilities; got {fmt!r})"
        )
    if database is not None and not vulns:
        raise UsageError("--db: only with --vulns (the advisory database is read for vulnerabilities)")
    if (config is not None or trust_repo_config) and not vulns:
        raise UsageError("--config/--trust-repo-config: only with --vulns (they name the advisory database)")
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    inv = inventory(path, python_env=env)
    check = None
    if vulns:
        from bastion.cli.db import deps_table
        from bastion.sbom.vex import check_vulnerabilities

        where = path if path.is_dir() else path.parent
        named = database or deps_table(config, trust_repo_config, where).get("database")
        check = check_vulnerabilities(inv.packages, Path(named) if named else None)
    text = render(inv, choice, vulns=check)
    errors = error_console()
    write_text(text, output, "SBOM")
    if check is not None and not check.checked:
        errors.print(
            f"WARNING: {check.reason}: vulnerabilities were NOT checked (the SBOM says so); "
            "run `bastion db update` (or `bastion db import PATH` offline) and write it again"
        )
    for note in inv.notes:
        errors.print(f"note: {note}")
    if not quiet:
        for note in inv.package_notes:
            errors.print(f"note: {note}")
        if check is not None and check.checked:
            unchecked = f", {len(check.unchecked)} components not checked" if check.unchecked else ""
            errors.print(f"vulnerabilities: {len(check.found)} found, each in triage{unchecked}")
        if output is not None:
            errors.print(f"wrote {choice.value} SBOM with {len(inv.packages)} packages to {output}")
    return EXIT_CLEAN
