"""The ``bastion`` command: the Typer app, its command groups, and the one place errors
become exit codes (0 clean, 1 findings at or above ``--fail-on``, 2 usage or input error).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
import typer

from bastion import __version__
from bastion.cli import scan as scan_cmd
from bastion.cli.output import error_console
from bastion.errors import BastionError

__all__ = ["app", "main", "run"]

EXIT_USAGE = 2

app = typer.Typer(
    name="bastion",
    help=(
        "Bastion: one DevSecOps platform that validates every build.\n\n"
        "Example: bastion scan . --format sarif -o bastion.sarif"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bastion {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Bastion: one DevSecOps platform that validates every build."""


scan_cmd.register(app)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code instead of exiting."""
    try:
        result = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        error_console().print("aborted")
        return 130
    except BastionError as exc:
        error_console().print(f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        error_console().print("interrupted")
        return 130
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
