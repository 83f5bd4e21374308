"""``bastion sigma``: check Sigma rules and run them on logs."""

from __future__ import annotations

import enum
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import typer

from bastion import __version__
from bastion.cli.output import EXIT_CLEAN, EXIT_FINDINGS, command, error_console
from bastion.errors import InputError, UsageError
from bastion.findings import Alert

if TYPE_CHECKING:
    from bastion.detect.identity.upload import AlertUpload
    from bastion.detect.sigma.event import Event
    from bastion.detect.sinks import AlertSink
    from bastion.stream.consumer import ConsumerStats

__all__ = ["register"]

sigma_app = typer.Typer(
    help="Run the community's Sigma detection rules on logs.\n\n"
    "Example: bastion sigma run Security.evtx sysmon.jsonl --rules ./sigma/rules --format jsonl",
    no_args_is_help=True,
)


rules_app = typer.Typer(help="The Sigma rules Bastion uses by default.", no_args_is_help=True)


class RunFormat(enum.StrEnum):
    """Output formats of ``sigma run``."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    SARIF = "sarif"


class CheckFormat(enum.StrEnum):
    """Output formats of ``sigma check``."""

    TABLE = "table"
    JSON = "json"


def register(app: typer.Typer) -> None:
    """Add the ``sigma`` command group to ``app``."""
    sigma_app.command(
        "check",
        help="Load Sigma rules; print every rule that cannot be evaluated with a one-line reason. "
        "Exit 1 when some rule is refused.\n\nExample: bastion sigma check ./sigma/rules",
    )(command(check))
    sigma_app.command(
        "run",
        help="Match logs (EVTX, JSON lines, CloudTrail, syslog/auth.log, auditd, access logs) against Sigma "
        "rules; exit 1 when there are alerts.\n\n"
        "Example: bastion sigma run logs/ --rules ./sigma/rules --min-level high --format sarif -o s.sarif",
    )(command(run))
    sigma_app.command(
        "update",
        help="Install a SigmaHQ release (URL of its zip, a local .zip/.tar.gz, or a rule directory): checked "
        "(--sha256), every rule loaded, then swapped in whole; reports added/changed/removed rules. "
        "run uses it when given no --rules.\n\n"
        "Example: bastion sigma update https://github.com/SigmaHQ/sigma/releases/latest/download/"
        "sigma_core.zip --sha256 HEX",
    )(command(update))
    rules_app.command(
        "list",
        help="List the rules run would use (the shipped curated set, the updated set, or --rules): id, "
        "level, status, log source, title, author.\n\nExample: bastion sigma rules list --format json",
    )(command(rules_list))
    sigma_app.add_typer(rules_app, name="rules")
    app.add_typer(sigma_app, name="sigma")


def _placeholders(path: Path | None) -> dict[str, list[str]] | None:
    from bastion.detect.sigma.loader import load_placeholders

    return load_placeholders(path) if path else None


def check(
    rules: list[Path] = typer.Argument(..., help="Rule files or directories."),
    fmt: CheckFormat = typer.Option(CheckFormat.TABLE, "--format", help="table or json."),
    placeholders: Path | None = typer.Option(
        None, "--placeholders", help="YAML: placeholder name -> values, for the expand modifier."
    ),
) -> int:
    """Load rules and report each one that cannot be evaluated."""
    from bastion.detect.sigma.loader import load_rules

    ruleset = load_rules(rules, _placeholders(placeholders))
    if fmt == CheckFormat.JSON:
        doc = {
            "files": ruleset.files,
            "loaded": len(ruleset.rules) + len(ruleset.correlations),
            "refused": [{"path": r.path, "rule_id": r.rule_id, "reason": r.reason} for r in ruleset.refused],
            "unmapped": [
                {"path": r.path, "rule_id": r.id, "logsource": list(r.logsource)} for r in ruleset.unmapped
            ],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        for refusal in ruleset.refused:
            typer.echo(f"refused  {refusal.line()}")
        for rule in ruleset.unmapped:
            ls = "/".join(x or "*" for x in rule.logsource)
            typer.echo(f"unmapped {rule.path} [{rule.id}]: no pipeline produces log source {ls}")
        reasons = Counter(r.reason.split(" (")[0][:60] for r in ruleset.refused)
        typer.echo(
            f"{ruleset.files} file(s): {len(ruleset.rules)} rule(s) and {len(ruleset.correlations)} "
            f"correlation(s) loaded, {len(ruleset.refused)} refused, "
            f"{len(ruleset.unmapped)} loaded without a log-source mapping"
        )
        for reason, n in reasons.most_common(10):
            typer.echo(f"  {n} refused: {reason}")
    return EXIT_FINDINGS if ruleset.refused else EXIT_CLEAN


def run(
    logs: list[Path] | None = typer.Argument(
        None, help="Log files or directories (- for stdin); none with --stream URL --consumer I/N."
    ),
    rules: list[Path] | None = typer.Option(
        None, "--rules", help="Rule files or directories; repeatable (default: see bastion sigma rules list)."
    ),
    fmt: RunFormat = typer.Option(RunFormat.TABLE, "--format", help="table, json, jsonl or sarif."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write alerts here instead of stdout."),
    min_level: str = typer.Option(
        "informational", "--min-level", help="Alert on rules at or above this level."
    ),
    follow: bool = typer.Option(False, "--follow", help="Keep reading lines appended to the files."),
    idle_timeout: float | None = typer.Option(
        None, "--idle-timeout", help="With --follow: stop after this many seconds without a new line."
    ),
    placeholders: Path | None = typer.Option(
        None, "--placeholders", help="YAML: placeholder name -> values, for the expand modifier."
    ),
    upload: str | None = typer.Option(
        None, "--upload", help="Also post each alert to the Bastion server at URL (/api/v1/alerts)."
    ),
    token: str | None = typer.Option(
        None, "--token", help="Project API token for --upload (default: BASTION_TOKEN; never printed)."
    ),
    project: str | None = typer.Option(
        None, "--project", help="With --upload: project slug (default: the token's project)."
    ),
    stream_url: str | None = typer.Option(
        None,
        "--stream",
        help="Redis or NATS URL: publish the events of LOGS (keyed by host), or match them with --consumer.",
    ),
    consumer: str | None = typer.Option(
        None, "--consumer", help="With --stream: match as member INDEX/COUNT of the consumer group (0/2)."
    ),
    idle_exit: float | None = typer.Option(
        None, "--idle-exit", help="With --consumer: stop after this many seconds without an event."
    ),
) -> int:
    """Match logs against Sigma rules (or publish them to a stream that consumers match)."""
    from bastion.detect.sigma.alerts import correlation_alert, hit_alert
    from bastion.detect.sigma.correlate import CorrelationHit
    from bastion.detect.sigma.engine import LEVELS, SigmaEngine
    from bastion.detect.sigma.events import ReadSkips, follow_events, read_events
    from bastion.detect.sigma.loader import load_rules

    if min_level.lower() not in LEVELS:
        raise UsageError(f"--min-level: unknown level {min_level!r} (choose from {', '.join(LEVELS)})")
    member = _stream_member(logs, stream_url, consumer)
    if stream_url and member is None:
        return _publish(logs or [], stream_url, follow, idle_timeout)
    logs = logs or []
    console = error_console()
    if not rules:
        from bastion.detect.sigma.defaults import default_rules

        source = default_rules()
        rules = list(source.paths)
        console.print(source.describe())
    ruleset = load_rules(rules, _placeholders(placeholders))
    if ruleset.refused:
        console.print(f"{len(ruleset.refused)} rule(s) refused (bastion sigma check lists them with reasons)")
    if not ruleset.rules:
        raise InputError(f"{', '.join(str(r) for r in rules)}: no rule could be loaded")
    engine = SigmaEngine(ruleset, LEVELS[min_level.lower()])
    skips = ReadSkips()
    uploader = _uploader(upload, token, project)  # a bad URL or a missing token fails before reading
    stop = threading.Event()
    consumed: list[ConsumerStats] = []
    events: Iterator[Event]
    if stream_url and member is not None:
        from bastion.jobs.sigma_stream import SIGMA_PREFIX, consume_events
        from bastion.stream.connect import open_transport

        transport = open_transport(stream_url, SIGMA_PREFIX)
        events = consume_events(transport, member[0], member[1], idle_exit, consumed)
    elif follow:
        events = follow_events(logs, stop, skips, idle_timeout)
    else:
        events = read_events(logs, skips)
    try:
        stream: TextIO = output.open("w", encoding="utf-8") if output else sys.stdout
    except OSError as exc:
        raise InputError(f"{output}: cannot write ({exc.strerror})") from None
    start = time.perf_counter()
    count = 0
    try:
        sink, collected = _sink(fmt, stream)
        try:
            for hit in engine.run(events):
                alert = correlation_alert(hit) if isinstance(hit, CorrelationHit) else hit_alert(hit)
                count += 1
                if sink is not None:
                    sink.emit(alert)
                else:
                    collected.append(alert)
                if uploader is not None:
                    uploader.emit(alert)
        finally:
            stop.set()
            if uploader is not None:
                uploader.close()
        if fmt == RunFormat.SARIF:
            from bastion.detect.sigma.alerts import write_sarif

            write_sarif(collected, stream, __version__)
        elif fmt == RunFormat.JSON:
            json.dump(
                {"alerts": [_json(a) for a in collected], "events": engine.events, "skipped": skips.total},
                stream,
                indent=2,
            )
            stream.write("\n")
        elif sink is not None:
            sink.close()
    finally:
        if output:
            stream.close()
    elapsed = time.perf_counter() - start
    console.print(
        f"{engine.events} event(s) in {elapsed:.1f}s against {len(engine.index.rules)} rule(s) "
        f"and {len(engine.states)} correlation(s): {count} alert(s)"
    )
    if member is not None:
        for stats in consumed:
            console.print(
                f"consumer {member[0]}/{member[1]}: {stats.events} events in {stats.batches} batches, "
                f"{stats.claimed} batches taken over from a dead consumer"
            )
    if uploader is not None:
        console.print(uploader.summary())
    for line in skips.lines():
        console.print(line)
    if skips.unmapped:
        console.print(
            f"{skips.unmapped} event(s) matched no pipeline: only rules without a log source ran on them"
        )
    if not engine.events and skips.total:
        raise InputError(f"{', '.join(str(p) for p in logs)}: no event could be read ({skips.total} skipped)")
    return EXIT_FINDINGS if count else EXIT_CLEAN


def _stream_member(logs: list[Path] | None, url: str | None, consumer: str | None) -> tuple[int, int] | None:
    """``--consumer I/N`` checked against the other inputs: (I, N), or None when not consuming."""
    if consumer is None:
        if not logs:
            raise UsageError("give LOGS, or --stream URL --consumer INDEX/COUNT")
        return None
    if not url:
        raise UsageError("--consumer needs --stream URL")
    if logs:
        raise UsageError(
            "--consumer matches the stream's events: give no LOGS (publish them with --stream alone)"
        )
    index, sep, count = consumer.partition("/")
    if not sep or not index.isdigit() or not count.isdigit() or not 0 <= int(index) < int(count):
        raise UsageError(f"--consumer {consumer!r}: give INDEX/COUNT with 0 <= INDEX < COUNT (0/2)")
    return int(index), int(count)


def _publish(logs: list[Path], url: str, follow: bool, idle_timeout: float | None) -> int:
    """``sigma run LOGS --stream URL``: the events of LOGS onto the log stream, keyed by host."""
    from bastion.detect.sigma.events import ReadSkips, follow_events, read_events
    from bastion.jobs.sigma_stream import SIGMA_PREFIX, publish_events
    from bastion.stream.connect import open_transport

    transport = open_transport(url, SIGMA_PREFIX)
    skips = ReadSkips()
    stop = threading.Event()
    try:
        result = publish_events(
            transport, follow_events(logs, stop, skips, idle_timeout) if follow else read_events(logs, skips)
        )
    finally:
        stop.set()
    console = error_console()
    console.print(f"published {result.accepted} log events ({result.dropped} dropped: partitions full)")
    for line in skips.lines():
        console.print(line)
    if not result.accepted and skips.total:
        raise InputError(f"{', '.join(str(p) for p in logs)}: no event could be read ({skips.total} skipped)")
    return EXIT_CLEAN


def update(
    source: str = typer.Argument(
        ..., help="A release archive URL (http/https), a local .zip/.tar.gz archive, or a rule directory."
    ),
    dest: Path | None = typer.Option(
        None, "--dest", help="The rule directory to replace (default: Bastion's own, used by run)."
    ),
    sha256: str | None = typer.Option(None, "--sha256", help="Expected SHA-256 of the archive."),
    fmt: CheckFormat = typer.Option(CheckFormat.TABLE, "--format", help="table or json."),
) -> int:
    """Install a Sigma rule release; rules that do not load are listed, the rest installed."""
    from bastion.detect.sigma.update import default_update_dir, update_rules

    report = update_rules(source, dest or default_update_dir(), sha256)
    if fmt == CheckFormat.JSON:
        doc = {
            "source": report.source,
            "dest": str(report.dest),
            "sha256": report.sha256,
            "files": report.files,
            "loaded": report.loaded,
            "added": report.added,
            "changed": report.changed,
            "removed": report.removed,
            "refused": [{"path": r.path, "rule_id": r.rule_id, "reason": r.reason} for r in report.refused],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        for line in report.lines():
            typer.echo(line)
    return EXIT_CLEAN


def rules_list(
    rules: list[Path] | None = typer.Option(None, "--rules", help="List these instead of the default rules."),
    fmt: CheckFormat = typer.Option(CheckFormat.TABLE, "--format", help="table or json."),
) -> int:
    """List the rules ``run`` uses."""
    from bastion.detect.sigma.defaults import RuleSource, default_rules
    from bastion.detect.sigma.loader import load_rules

    source = RuleSource(tuple(rules), "given") if rules else default_rules()
    ruleset = load_rules(source.paths)
    by_source: Counter[str] = Counter("/".join(x or "*" for x in r.logsource) for r in ruleset.rules)
    if fmt == CheckFormat.JSON:
        doc = {
            "origin": source.origin,
            "paths": [str(p) for p in source.paths],
            "rules": [
                {
                    "id": r.id,
                    "title": r.title,
                    "level": r.level,
                    "status": r.status,
                    "logsource": list(r.logsource),
                    "author": r.author,
                    "path": r.path,
                }
                for r in ruleset.rules
            ],
            "by_logsource": dict(by_source.most_common()),
            "refused": len(ruleset.refused),
        }
        typer.echo(json.dumps(doc, indent=2))
        return EXIT_CLEAN
    for r in sorted(ruleset.rules, key=lambda r: (r.logsource[0] or "", r.logsource[1] or "", r.title)):
        ls = "/".join(x or "*" for x in r.logsource)
        typer.echo(f"{r.level:<8} {r.status:<6} {ls:<32} {r.id}  {r.title}  ({r.author or 'unknown author'})")
    typer.echo(
        f"{len(ruleset.rules)} rule(s) and {len(ruleset.correlations)} correlation(s) in "
        f"{', '.join(str(p) for p in source.paths)} ({source.origin}); {len(ruleset.refused)} refused"
    )
    for name, n in by_source.most_common():
        typer.echo(f"  {n:>5}  {name}")
    return EXIT_CLEAN


def _uploader(url: str | None, token: str | None, project: str | None) -> AlertUpload | None:
    """The ``--upload`` sink, or None; the token comes from ``--token`` or the environment."""
    if not url:
        if token or project:
            raise UsageError("--token and --project go with --upload URL")
        return None
    import os

    from bastion.detect.identity.upload import TOKEN_ENV, AlertUpload

    return AlertUpload(url, token or os.environ.get(TOKEN_ENV, ""), project=project, name="sigma run")


def _json(alert: Alert) -> dict[str, object]:
    meta = alert.metadata
    return {"rule_id": meta.get("rule_id"), "rule_title": meta.get("rule_title"), **alert.to_dict()}


def _sink(fmt: RunFormat, stream: TextIO) -> tuple[AlertSink | None, list[Alert]]:
    from bastion.detect.sigma.alerts import SigmaJsonLinesSink
    from bastion.detect.sinks import TableSink

    if fmt == RunFormat.TABLE:
        return TableSink(stream), []
    if fmt == RunFormat.JSONL:
        return SigmaJsonLinesSink(stream), []
    return None, []
