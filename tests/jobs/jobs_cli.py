"""``bastion`` with the org and worker groups, run as a script by the job tests' workers."""

from __future__ import annotations

import sys

import typer

from bastion.cli import org, worker

if __name__ == "__main__":
    app = typer.Typer()
    org.register(app)
    worker.register(app)
    app(args=sys.argv[1:], prog_name="bastion")
