"""``bastion ready``: "are we ready to respond to a cyberattack?" answered from evidence.

``bastion ready [--server URL | --from DIR]`` prints the one-line answer, the three weakest points,
a roadmap and the trend; ``bastion ready answer QUESTION yes|partly|no --by NAME`` records a
process answer no tool can see (dated, attributed, expiring) in a local file, or on a Bastion
server with ``--server URL --token T`` (where ``bastion ready --server`` and the ``/ready`` page
read it back).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import typer

from bastion import atomic
from bastion.cli.output import EXIT_CLEAN, command, error_console
from bastion.errors import InputError, UsageError
from bastion.ready.collect import collect_dir, collect_server, http_fetch
from bastion.ready.evidence import EvidenceSet
from bastion.ready.history import server_previous
from bastion.ready.mapping import load_mapping
from bastion.ready.models import MaturityModel, load_dsomm, load_samm
from bastion.ready.questionnaire import (
    Answer,
    answer_evidence,
    check_answer,
    load_answers,
    record_answer,
    send_answer,
    server_answers,
)
from bastion.ready.render import ReadyFormat, render
from bastion.ready.score import assess
from bastion.server.client import CREDENTIAL_ENV
from bastion.structured import read_json

__all__ = ["register"]

ready_app = typer.Typer(
    help=(
        "Are we ready to respond to a cyberattack? The answer from evidence, the three weakest points, "
        "a roadmap and the trend.\n\nExample: bastion ready --from reports/ --format html -o ready.html"
    ),
    no_args_is_help=False,
    invoke_without_command=True,
)


def _previous(history: Path | None, scope: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The assessments kept in ``history`` and the latest of ``scope`` (one file may keep the
    organisation's and each project's)."""
    if history is None or not history.exists():
        return [], None
    data = read_json(history, what="readiness history")
    if not isinstance(data, dict) or not isinstance(data.get("assessments"), list):
        raise InputError(f"{history}: assessments: expected a list (a file bastion ready --history wrote)")
    rows = [r for r in data["assessments"] if isinstance(r, dict)]
    same = [r for r in rows if r.get("scope", "organisation") == scope]
    return rows, (same[-1] if same else None)


def _public(url: str) -> str:
    """The server URL as evidence origins show it: any user or password in it left out."""
    parts = urlsplit(url.rstrip("/"))
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))


@ready_app.callback()
def ready(
    ctx: typer.Context,
    server: str = typer.Option("", "--server", help="Bastion server URL to read evidence from."),
    token: str = typer.Option("", "--token", envvar=CREDENTIAL_ENV, help="API token (or BASTION_TOKEN)."),
    from_dir: Path | None = typer.Option(
        None, "--from", help="Folder of JSON reports (scan, SBOM, drill, phish, comply)."
    ),
    fmt: ReadyFormat = typer.Option(ReadyFormat.TABLE, "--format", "-f", help="table, json, md or html."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the report here."),
    answers: Path | None = typer.Option(None, "--answers", help="Process questionnaire answers (JSON)."),
    history: Path | None = typer.Option(
        None,
        "--history",
        help="Assessments kept for the trend (read, then appended); with --server the server's by default.",
    ),
    project: str = typer.Option("", "--project", help="Assess one project (default: the organisation)."),
    dsomm: Path | None = typer.Option(None, "--dsomm", help="OWASP DSOMM model.yaml (GPL-3.0; not shipped)."),
    samm: Path | None = typer.Option(None, "--samm", help="OWASP SAMM 2 model/ folder (CC BY-SA 4.0)."),
    mapping_file: Path | None = typer.Option(None, "--mapping", help="Another readiness mapping file."),
) -> None:
    """Assess readiness from the evidence (runs when no subcommand is given)."""
    if ctx.invoked_subcommand is None:
        _assess(server, token, from_dir, fmt, output, answers, history, project, dsomm, samm, mapping_file)


@command
def _assess(
    server: str,
    token: str,
    from_dir: Path | None,
    fmt: ReadyFormat,
    output: Path | None,
    answers: Path | None,
    history: Path | None,
    project: str,
    dsomm: Path | None,
    samm: Path | None,
    mapping_file: Path | None,
) -> int:
    if bool(server) == bool(from_dir):
        raise UsageError("give one of --server URL or --from DIR")
    mapping = load_mapping(mapping_file)
    models: list[MaturityModel] = []
    if dsomm is not None:
        models.append(load_dsomm(dsomm))
    if samm is not None:
        models.append(load_samm(samm))
    rows, previous = _previous(history, project or "organisation")
    kept_note = ""
    now = datetime.now(UTC)
    evidence = EvidenceSet()
    if from_dir is not None:
        problems: list[str] = []
        evidence.merge(collect_dir(from_dir, problems))
        for line in problems:
            error_console().print(f"skipped: {line}")
    else:
        if not server.startswith(("http://", "https://")):
            raise UsageError(f"--server {server!r}: expected an http:// or https:// URL")
        if not token:
            raise UsageError(f"no API token: pass --token or set {CREDENTIAL_ENV}")
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=_public(server), headers=headers, timeout=30.0) as client:
            fetch = http_fetch(client)
            evidence.merge(collect_server(fetch, _public(server), now))
            evidence.merge(server_answers(fetch, mapping, _public(server)))
            if history is None:  # the server keeps the assessments: its earlier one is the trend's
                previous, kept_note = server_previous(fetch, project)
    if answers is not None:
        evidence.merge(answer_evidence(load_answers(answers, mapping), mapping, str(answers)))
    elif from_dir is not None:
        evidence.missing("questionnaire", "no answers given (--answers FILE; bastion ready answer ...)")
    result = assess(
        evidence, mapping, now, scope=project or "organisation", models=tuple(models), previous=previous
    )
    if kept_note:
        result.trend["basis" if previous is not None else "note"] = kept_note
    text = render(result, fmt)
    if output is not None:
        atomic.write_text(output, text, what="readiness report")
        typer.echo(result.answer())
    else:
        typer.echo(text, nl=False)
    if history is not None:
        keep = {
            k: v
            for k, v in result.to_dict().items()
            if k in ("at", "scope", "verdict", "overall", "dimensions")
        }
        atomic.write_text(history, json.dumps({"version": 1, "assessments": [*rows, keep]}, indent=2) + "\n")
    return EXIT_CLEAN


@ready_app.command("answer")
@command
def answer(
    question: str = typer.Argument(..., help="ir-plan-tested, on-call, backups-restored or bcdr-plan."),
    value: str = typer.Argument(..., help="yes, partly or no."),
    by: str = typer.Option(..., "--by", help="Who answers (kept with the answer)."),
    answers: Path = typer.Option(Path("ready-answers.json"), "--answers", help="The answers file."),
    note: str = typer.Option("", "--note", help="What shows it (a link, a ticket)."),
    server: str = typer.Option("", "--server", help="Keep the answer on this Bastion server instead."),
    token: str = typer.Option("", "--token", envvar=CREDENTIAL_ENV, help="API token (or BASTION_TOKEN)."),
    project: str = typer.Option(
        "", "--project", help="With --server: the project answered for (default: the token's)."
    ),
) -> int:
    """Record a dated, attributed process answer. Example: bastion ready answer on-call yes --by maya

    On a server: bastion ready answer on-call yes --by maya --server https://bastion.example --token T
    """
    mapping = load_mapping()
    if not server:
        if project:
            raise UsageError("--project needs --server (a local answers file has no projects)")
        saved = record_answer(answers, mapping, question, value, by, note)
        typer.echo(f"recorded {saved.question} = {saved.answer} by {saved.by} at {saved.at} in {answers}")
        return EXIT_CLEAN
    check_answer(mapping, question, value, by, note)
    row = send_answer(server, token, Answer(question, value, by.strip(), "", note, project))
    scope = f"project {row.get('project')}" if row.get("project") else "the organisation"
    typer.echo(
        f"recorded {row.get('question')} = {row.get('answer')} by {row.get('by')} at {row.get('at')} "
        f"for {scope} on {_public(server)}"
    )
    return EXIT_CLEAN


def register(app: typer.Typer) -> None:
    """Add the ``ready`` command group to ``app``."""
    app.add_typer(ready_app, name="ready")
