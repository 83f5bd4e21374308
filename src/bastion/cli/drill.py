"""``bastion drill``: war games replayed through the detectors, scored on time to detect and respond."""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.output import EXIT_CLEAN, EXIT_FINDINGS, command, error_console, write_text
from bastion.errors import InputError, UsageError

if TYPE_CHECKING:
    from bastion.drills.exercise import Exercise
    from bastion.drills.journal import Journal

__all__ = ["register"]

drill_app = typer.Typer(
    help="War games: replayed attacks scored on time to detect, acknowledge and contain.\n\n"
    "Example: bastion drill run exercise.yml -o build/drill",
    no_args_is_help=True,
)


class ListFormat(enum.StrEnum):
    """Output formats of ``drill list``."""

    TABLE = "table"
    JSON = "json"


class ReportFormat(enum.StrEnum):
    """Output formats of ``drill report``."""

    MARKDOWN = "markdown"
    JSON = "json"
    HTML = "html"
    NAVIGATOR = "navigator"


DIR = typer.Option(..., "-o", "--dir", help="The exercise's output directory (holds its journal).")


def register(app: typer.Typer) -> None:
    """Add the ``drill`` command group to ``app``."""
    for name, func, text in (
        ("list", list_cmd, "List the scenario library: id, ATT&CK techniques, detectors expected.\n\n"
         "Example: bastion drill list --format json"),
        ("run", run, "Run an exercise: replay the baseline with the attacks through the detectors, score it, "
         "write report.html, report.json, report.md and navigator.json; resumes an interrupted run. "
         "Exit 1 when a scenario was missed.\n\nExample: bastion drill run exercise.yml -o build/drill"),
        ("ack", ack, "Acknowledge an alert for a team.\n\n"
         "Example: bastion drill ack 3f2a9c01 -o build/drill --team night-shift"),
        ("contain", contain, "Mark an alert contained.\n\n"
         "Example: bastion drill contain 3f2a9c01 -o build/drill"),
        ("resolve", resolve, "Mark an alert resolved.\n\n"
         "Example: bastion drill resolve 3f2a9c01 -o build/drill"),
        ("tune", tune_cmd, "For each miss: what the detector saw, the nearest threshold that catches it and "
         "its "
         "false-alert cost; writes the suggested rules diff (never applied).\n\n"
         "Example: bastion drill tune build/drill -o rules.diff"),
        ("report", report_cmd, "Re-score an exercise (after the blue team's actions) and write one report "
         "format.\n\n"
         "Example: bastion drill report build/drill --format html -o report.html --trend last/report.json"),
    ):  # fmt: skip
        drill_app.command(name, help=text)(command(func))
    app.add_typer(drill_app, name="drill")


def list_cmd(
    fmt: ListFormat = typer.Option(ListFormat.TABLE, "--format", help="table or json."),
    scenarios: list[Path] | None = typer.Option(None, "--scenarios", help="Scenario files or directories."),
    atomics: list[Path] | None = typer.Option(
        None,
        "--atomics",
        help="Atomic Red Team atomics files or directories: link their tests to the scenarios.",
    ),
) -> int:
    """List scenarios."""
    from bastion.drills.scenario import library

    found = library(scenarios or None)
    if atomics:
        from bastion.drills.atomics import check_references, read_atomics

        rows = check_references(found, read_atomics(atomics))
        for sid, technique, what in rows:
            typer.echo(f"{sid:34} {technique:12} {what}")
        return (
            EXIT_FINDINGS if any(w.startswith(("unknown", "referenced")) for _, _, w in rows) else EXIT_CLEAN
        )
    if fmt == ListFormat.JSON:
        doc = [
            {
                "id": s.id,
                "name": s.name,
                "techniques": [
                    {"id": t.id, "name": t.name, "tactics": list(t.tactics)} for t in s.techniques
                ],
                "detectors": [e.detector for e in s.expect],
            }
            for s in found
        ]
        typer.echo(json.dumps(doc, indent=2))
        return EXIT_CLEAN
    for s in found:
        techniques = ",".join(t.id for t in s.techniques)
        typer.echo(f"{s.id:34} {techniques:22} {','.join(s.families):10} {s.name}")
    typer.echo(f"{len(found)} scenario(s)")
    return EXIT_CLEAN


def _write_reports(
    ex: Exercise, journal: Journal, out: Path, trend: list[Path] | None = None
) -> dict[str, Any]:
    from bastion import atomic
    from bastion.drills.navigator import layer
    from bastion.drills.report import document, load_report, markdown, render_html, scoreboard

    board = scoreboard(ex, journal)
    history = [{k: d[k] for k in ("exercise", "coverage")} for d in map(load_report, trend or [])]
    history = [
        {"exercise": h["exercise"], "coverage": h["coverage"]["share"], "false_alerts": None} for h in history
    ]
    doc = document(ex, journal, board, history)
    atomic.write_text(out / "report.json", json.dumps(doc, indent=2) + "\n", what="drill report")
    atomic.write_text(out / "report.html", render_html(doc), what="drill report")
    atomic.write_text(out / "report.md", markdown(doc), what="drill report")
    atomic.write_text(
        out / "navigator.json", json.dumps(layer(board, ex.name), indent=2) + "\n", what="layer"
    )
    return doc


def run(
    exercise: Path = typer.Argument(..., help="The exercise YAML file."),
    output: Path = typer.Option(Path("drill-out"), "-o", "--dir", help="Output directory: journal, reports."),
    live: bool = typer.Option(False, "--live", help="Lab only: also run the scenarios' live actions against "
                              "the targets listed in the exercise file (any other target is refused)."),
    trend: list[Path] | None = typer.Option(None, "--trend", help="Earlier report.json files (trend)."),
) -> int:  # fmt: skip
    """Run (or resume) an exercise."""
    from bastion.drills.exercise import load_exercise
    from bastion.drills.journal import Journal
    from bastion.drills.live import check_targets, run_live
    from bastion.drills.replay import replay

    ex = load_exercise(exercise)
    console = error_console()
    if live:
        if not ex.live_targets:
            raise UsageError(f"--live: {exercise} lists no live.targets")
        check_targets(ex, ex.scenarios)  # refuse before anything is sent
    journal = Journal.open(output)
    resumed = len(journal.units)
    replay(
        ex,
        journal,
        on_unit=lambda u: console.print(
            f"run {u.run} {u.family}: {u.events} events, {len(u.alerts)} alert(s)"
        ),
    )
    if resumed:
        console.print(f"resumed: {resumed} finished unit(s) kept from the journal, not replayed again")
    if live:
        for r in run_live(ex):
            journal.add_live(r.scenario, r.target, r.url, r.status, r.error, r.time)
            state = r.status if r.status is not None else r.error
            console.print(f"live {r.scenario} {r.url}: {state}")
    doc = _write_reports(ex, journal, output, trend)
    cov = doc["coverage"]
    typer.echo(
        f"{ex.name}: {cov['detected']}/{cov['assessed']} scenario run(s) detected, "
        f"{sum(1 for s in doc['scenarios'] if s['status'] == 'not assessed')} scenario(s) not assessed, "
        f"{doc['false_alerts']['total']} false alert(s); reports in {output}"
    )
    missed = [s["id"] for s in doc["scenarios"] if s["status"] in ("missed", "partly detected")]
    for sid in missed:
        typer.echo(f"missed: {sid}")
    return EXIT_FINDINGS if missed else EXIT_CLEAN


def _act(kind: str, alert: str, directory: Path, team: str, at: str | None, after: float | None) -> int:
    from bastion.drills.journal import Action
    from bastion.drills.report import session

    ex, journal = session(directory)
    if team not in ex.teams:
        raise UsageError(f"--team: {team!r} is not a team of the exercise ({', '.join(ex.teams)})")
    record = journal.alert(alert)
    if at is not None and after is not None:
        raise UsageError("give --at or --after, not both")
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise UsageError(f"--at: not an ISO 8601 time: {at!r}") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    elif after is not None:
        when = record.time + timedelta(seconds=after)
    else:
        when = datetime.now(UTC)
    if journal.add_action(Action(kind, record.id, team, when)):
        typer.echo(
            f"{kind} {record.id} ({record.signature} on {record.alert.entity}) by {team} "
            f"at {when.isoformat()}"
        )
    else:
        typer.echo(f"{record.id}: {team} already recorded {kind}; the first one counts")
    return EXIT_CLEAN


TEAM = typer.Option("blue", "--team", help="The blue team acting.")
AT = typer.Option(None, "--at", help="When (ISO 8601, the exercise's clock); default now.")
AFTER = typer.Option(None, "--after", help="Seconds after the alert was raised (replayed exercises).")


def ack(
    alert: str = typer.Argument(..., help="Alert id (or a unique prefix)."),
    directory: Path = DIR,
    team: str = TEAM,
    at: str | None = AT,
    after: float | None = AFTER,
) -> int:
    """Acknowledge an alert."""
    return _act("ack", alert, directory, team, at, after)


def contain(
    alert: str = typer.Argument(..., help="Alert id (or a unique prefix)."),
    directory: Path = DIR,
    team: str = TEAM,
    at: str | None = AT,
    after: float | None = AFTER,
) -> int:
    """Mark an alert contained."""
    return _act("contain", alert, directory, team, at, after)


def resolve(
    alert: str = typer.Argument(..., help="Alert id (or a unique prefix)."),
    directory: Path = DIR,
    team: str = TEAM,
    at: str | None = AT,
    after: float | None = AFTER,
) -> int:
    """Mark an alert resolved."""
    return _act("resolve", alert, directory, team, at, after)


def _directory(report: Path) -> Path:
    return report.parent if report.is_file() else report


def tune_cmd(
    report: Path = typer.Argument(..., help="The exercise's output directory or its report.json."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the suggested rules diff here."),
    fmt: ListFormat = typer.Option(ListFormat.TABLE, "--format", help="table or json."),
) -> int:
    """Suggest the nearest threshold changes for the misses."""
    from bastion.drills.report import session
    from bastion.drills.tune import as_dicts, config_diff, tune

    ex, journal = session(_directory(report))
    suggestions = tune(ex, journal)
    diff = config_diff(suggestions, ex.config.identity_rules)
    if fmt == ListFormat.JSON:
        typer.echo(json.dumps({"suggestions": as_dicts(suggestions), "diff": diff}, indent=2))
    else:
        for s in suggestions:
            change = (
                f"{s.param} {s.current:g} -> {s.proposed:g}, +{s.extra_false_alerts} false alert(s) "
                f"in {s.baseline_hours:g} h of baseline"
                if s.proposed is not None and s.current is not None
                else s.note
            )
            typer.echo(f"run {s.run} {s.scenario} [{s.detector}]: saw {s.saw}\n  suggestion: {change}")
        if not suggestions:
            typer.echo("no miss to tune")
    if output is not None:
        write_text(diff, output, "rules diff")
        typer.echo(f"suggested diff written to {output} (not applied)")
    elif diff and fmt == ListFormat.TABLE:
        typer.echo(diff)
    return EXIT_CLEAN


def report_cmd(
    report: Path = typer.Argument(..., help="The exercise's output directory."),
    fmt: ReportFormat = typer.Option(
        ReportFormat.MARKDOWN, "--format", help="markdown, json, html or navigator."
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write here instead of stdout."),
    trend: list[Path] | None = typer.Option(
        None, "--trend", help="Earlier report.json files, for the trend."
    ),
) -> int:
    """Re-score and write one report format (and refresh the files in the directory)."""
    from bastion.drills.navigator import layer
    from bastion.drills.report import markdown, render_html, scoreboard, session

    directory = _directory(report)
    ex, journal = session(directory)
    doc = _write_reports(ex, journal, directory, trend)
    match fmt:
        case ReportFormat.MARKDOWN:
            text = markdown(doc)
        case ReportFormat.JSON:
            text = json.dumps(doc, indent=2) + "\n"
        case ReportFormat.HTML:
            text = render_html(doc)
        case ReportFormat.NAVIGATOR:
            text = json.dumps(layer(scoreboard(ex, journal), ex.name), indent=2) + "\n"
    if output is None and fmt == ReportFormat.HTML:
        raise InputError("--format html needs -o FILE")
    write_text(text, output, "drill report")
    return EXIT_CLEAN
