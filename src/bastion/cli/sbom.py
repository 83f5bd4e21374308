"""``bastion sbom PATH -o FILE [--format cyclonedx|spdx]``: a bill of materials of a tree."""

from __future__ import annotations

from pathlib import Path

import typer

from bastion.cli.output import EXIT_CLEAN, command, error_console, write_text
from bastion.errors import InputError

__all__ = ["register"]

HELP = """Write a software bill of materials for PATH (a directory or one lockfile).

Reads the same manifests as the deps scanner (lockfiles, requirements, pom.xml, go.mod...);
each package appears with its purl and the file and line that declares it.

Example: bastion sbom . -o bom.json
Example: bastion sbom . --format spdx -o bom.spdx.json
"""


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
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    inv = inventory(path, python_env=env)
    text = render(inv, choice)
    errors = error_console()
    write_text(text, output, "SBOM")
    for note in inv.notes:
        errors.print(f"note: {note}")
    if not quiet:
        for note in inv.package_notes:
            errors.print(f"note: {note}")
        if output is not None:
            errors.print(f"wrote {choice.value} SBOM with {len(inv.packages)} packages to {output}")
    return EXIT_CLEAN
