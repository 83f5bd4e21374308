"""The ``bastion`` command: the Typer app and its command groups.

Exit codes (0 clean, 1 findings at or above ``--fail-on``, 2 usage or input error) are set
in one place, :func:`bastion.cli.output.command`, which every command is wrapped in.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from bastion import __version__
from bastion.cli import scan as scan_cmd
from bastion.cli.output import register_group

__all__ = ["app", "main", "run"]

EXIT_USAGE = 2  # what click uses for usage errors too

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

# Each command group is one module of bastion.cli with a ``register(app)`` function.
COMMAND_GROUPS = (
    "db",  # bastion db update|import|status (advisories) and db migrate (store)
    "sbom",
    "dast",
    "watch",
    "comply",
    "serve",  # bastion serve, upload, user
    "identity",  # bastion identity detect|explain
    "sigma",  # bastion sigma check|run
    "coverage",  # bastion coverage REPORT: the coverage gate
    "fix",  # bastion fix [PATH]: upgrades as a patch and a pull-request text
    "ci",  # bastion ci render|stages: one scan in every pipeline format
    "imports",  # bastion import FILE [--tool NAME]: another tool's report as Bastion's
    "rules",  # bastion rules list|show: every scanner's rules (RuleInfo)
    "catalog",  # bastion catalog publish|approve|deprecate|retire|recheck|scan: approved templates
    "phish",  # bastion phish targets import, campaign create|launch|send|status|stop|report, purge
    "respond",  # bastion respond run|plan|approve|undo|status|kill-switch: actions behind safeguards
    "worker",  # bastion worker: scan jobs from the task queue (Dramatiq over Redis)
    "org",  # bastion org add|list|schedule|scan|jobs: one scan job per repository
    "drill",  # bastion drill list|run|ack|contain|resolve|tune|report: war games scored on time
)
for _group in COMMAND_GROUPS:
    register_group(app, _group)  # a group whose packages a light install lacks says so when run


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code instead of exiting."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="bastion", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
