"""``bastion-hook``: ``bastion scan`` alone, for pre-commit hooks.

The full ``bastion`` command imports every command group at start (log analytics, the
server, DAST...), which costs seconds per commit and needs every dependency installed. A
hook only scans, so this entry point imports the scan command and nothing else: on a
machine with only the secrets scanner's dependencies it starts in under two seconds.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from bastion.cli import scan as scan_cmd

__all__ = ["main", "run"]

EXIT_USAGE = 2


def _app() -> typer.Typer:
    app = typer.Typer(
        name="bastion-hook",
        help="bastion scan for pre-commit hooks.\n\nExample: bastion-hook scan --scanners secrets --staged",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def _root() -> None:
        """bastion scan for pre-commit hooks."""

    scan_cmd.register(app)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``bastion-hook`` with ``argv`` and return the exit code."""
    try:
        _app()(args=list(argv) if argv is not None else None, prog_name="bastion-hook", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
