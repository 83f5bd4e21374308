"""``bastion respond``: act on alerts with playbooks, behind safeguards."""

from __future__ import annotations

import enum
import getpass
import json
import os
import queue
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.output import EXIT_CLEAN, EXIT_ERROR, command, error_console
from bastion.errors import InputError, UsageError

if TYPE_CHECKING:
    from bastion.respond.engine import Outcome, Responder
    from bastion.respond.ledger import ActionRecord

__all__ = ["register"]

LEDGER_ENV = "BASTION_RESPOND_LEDGER"

respond_app = typer.Typer(
    help="Respond to alerts automatically, behind allow-lists, limits, approval and timed undo.\n\n"
    "Example: bastion respond run --playbooks ./playbooks --alerts alerts.jsonl",
    no_args_is_help=True,
)


class Format(enum.StrEnum):
    """Output formats."""

    TABLE = "table"
    JSON = "json"


class Switch(enum.StrEnum):
    """Kill switch positions."""

    ON = "on"
    OFF = "off"


PLAYBOOKS = typer.Option(None, "--playbooks", help="Directory of playbook YAML files.")
SAFEGUARDS = typer.Option(None, "--safeguards", help="YAML: allow-lists and the circuit breaker's limits.")
LEDGER = typer.Option(None, "--ledger", help=f"SQLite audit ledger (default: ${LEDGER_ENV} or the data dir).")
FORMAT = typer.Option(Format.TABLE, "--format", help="table or json.")


def register(app: typer.Typer) -> None:
    """Add the ``respond`` command group to ``app``."""
    for name, func, text in (
        ("run", run, "Act on alerts (JSON lines, or a Bastion server's with --server) with the playbooks.\n\n"
         "Example: bastion respond run --playbooks pb/ --alerts alerts.jsonl --safeguards s.yaml\n\n"
         "Example: BASTION_TOKEN=... bastion respond run --playbooks pb/ --server https://bastion.example"),
        ("plan", plan, "Show what the playbooks would do for the alerts in a file; changes nothing.\n\n"
         "Example: bastion respond plan alerts.jsonl --playbooks pb/"),
        ("approve", approve, "Approve a pending action as another person, and apply it.\n\n"
         "Example: bastion respond approve 3f2a9c01d4e5b6a7 --as alice --playbooks pb/"),
        ("undo", undo, "Undo an applied action.\n\nExample: bastion respond undo 3f2a9c01d4e5b6a7"),
        ("confirm", confirm, "Keep an applied action past its TTL.\n\n"
         "Example: bastion respond confirm 3f2a9c01"),
        ("status", status, "Kill switch, breaker, pending approvals, actions in force and their TTLs.\n\n"
         "Example: bastion respond status --format json"),
        ("kill-switch", kill_switch, "Stop (on) or allow (off) every automatic action.\n\n"
         "Example: bastion respond kill-switch on"),
        ("breaker-reset", breaker_reset, "Close a tripped circuit breaker.\n\n"
         "Example: bastion respond breaker-reset --as alice"),
        ("expire", expire, "Undo applied actions whose TTL passed and refuse expired approval requests; "
         "run it from cron or a timer when no `run --stream` is up.\n\nExample: bastion respond expire"),
        ("drill", drill, "What the playbooks would have done during a war-game replay, and the time to "
         "contain with and without automatic response (a sandbox: nothing is touched).\n\n"
         "Example: bastion respond drill build/drill-out --playbooks pb/ --promote"),
        ("verify", verify, "Check the audit log's hash chain; exit 1 when it was tampered with.\n\n"
         "Example: bastion respond verify"),
    ):  # fmt: skip
        respond_app.command(name, help=text)(command(func))
    app.add_typer(respond_app, name="respond")


def _ledger_path(path: Path | None) -> Path:
    if path is not None:
        return path
    env = os.environ.get(LEDGER_ENV, "").strip()
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("bastion", appauthor=False)) / "respond.sqlite"


def _user(name: str | None) -> str:
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _responder(
    playbooks: Path | None,
    safeguards: Path | None,
    ledger: Path | None,
    who: str | None = None,
    database: str | None = None,
    need_playbooks: bool = True,
) -> Responder:
    from bastion.respond.actions.registry import ActionContext
    from bastion.respond.engine import Responder
    from bastion.respond.ledger import Ledger
    from bastion.respond.playbook import load_playbooks, load_safeguards

    if playbooks is None and need_playbooks:
        raise UsageError("--playbooks DIR is required")
    books = load_playbooks(playbooks) if playbooks is not None else []
    guards = load_safeguards(safeguards)
    store = None
    if database or os.environ.get("BASTION_DATABASE_URL"):
        from bastion.store.db import Store

        opened: list[Store] = []

        def store() -> Store:
            if not opened:
                opened.append(Store.open(database))
            return opened[0]

    from bastion.respond.actions.libnft import load_libnftables

    ctx = ActionContext(store=store, env=dict(os.environ), nft_library=load_libnftables())
    return Responder(
        books, guards, Ledger(_ledger_path(ledger)), ctx, requested_by=_user(who),
        on_page=lambda message: error_console().print(f"PAGE: {message}"),
    )  # fmt: skip


TICK_S = 1.0
"""While a stream is idle, expired actions are still undone this often."""


def _followed(alerts: Path, idle_timeout: float | None) -> Iterator[tuple[str, int, str] | None]:
    """Lines appended to ``alerts``, read on a thread; ``None`` each idle second, so TTLs expire."""
    from bastion.detect.ingest.sources import follow

    lines: queue.Queue[tuple[str, int, str] | BaseException | None] = queue.Queue()
    stop = threading.Event()

    def reader() -> None:
        try:
            for item in follow(alerts, stop=stop, idle_timeout=idle_timeout):
                lines.put(item)
        except BaseException as exc:  # handed to the main thread, which raises it
            lines.put(exc)
        lines.put(None)

    thread = threading.Thread(target=reader, name="respond-follow", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = lines.get(timeout=TICK_S)
            except queue.Empty:
                yield None
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _lines(alerts: Path, stream: bool, idle_timeout: float | None) -> Iterator[tuple[str, int, str] | None]:
    if str(alerts) == "-":
        for n, text in enumerate(sys.stdin, 1):
            yield "<stdin>", n, text
        return
    if stream:
        yield from _followed(alerts, idle_timeout)
        return
    try:
        with alerts.open(encoding="utf-8", errors="replace") as handle:
            for n, text in enumerate(handle, 1):
                yield str(alerts), n, text
    except OSError as exc:
        raise InputError(f"{alerts}: cannot read alerts ({exc.strerror})") from None


def _server_lines(
    responder: Responder, url: str, token: str, project: str, stream: bool, every_s: float,
    idle_timeout: float | None,
) -> Iterator[tuple[str, int, str] | None]:  # fmt: skip
    """New alerts of a Bastion server; the cursor (last alert id handed over) is kept in the ledger,
    so the next run starts after it, and saved at every idle tick and at the end."""
    from bastion.respond.remote import ServerAlerts

    source = ServerAlerts(url, token, project)
    ledger = responder.ledger
    saved = ledger.setting(source.cursor_key)
    source.after_id = int(saved) if saved.isdigit() else 0

    def save() -> None:
        if str(source.after_id) != ledger.setting(source.cursor_key):
            with ledger.transaction():
                ledger.set_setting(source.cursor_key, str(source.after_id))

    for item in source.lines(follow=stream, every_s=every_s, idle_timeout=idle_timeout):
        if item is None:
            save()
        yield item
    save()
    for note in source.notes:
        error_console().print(f"note: {note}")


def _print(outcomes: list[Outcome], fmt: Format) -> None:
    if fmt is Format.JSON:
        rows = [
            {"id": o.action_id, "playbook": o.playbook, "action": o.action, "target": o.target,
             "status": o.status.value, "reason": o.reason, "plan": list(o.plan.steps) if o.plan else []}
            for o in outcomes
        ]  # fmt: skip
        typer.echo(json.dumps(rows, indent=2))
        return
    for o in outcomes:
        typer.echo(f"{o.action_id}  {o.status.value:<8} {o.playbook}/{o.action} {o.target}  {o.reason}")
        if o.plan is not None and o.status.value in {"planned", "pending"}:
            for step in o.plan.steps:
                typer.echo(f"    {step}")


def run(
    playbooks: Path = typer.Option(..., "--playbooks", help="Directory of playbook YAML files."),
    alerts: Path | None = typer.Option(
        None, "--alerts", help="Alerts as JSON lines (from watch, identity, sigma); - for stdin."
    ),
    server: str | None = typer.Option(
        None, "--server", help="Read new open alerts from this Bastion server (GET /api/v1/alerts)."
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="BASTION_TOKEN",
        help="API token for --server (or BASTION_TOKEN).",
        show_default=False,
        show_envvar=True,
    ),
    project: str = typer.Option("", "--project", help="With --server: only this project's alerts."),
    poll_s: float = typer.Option(
        5.0, "--poll", min=0.1, help="With --server --stream: seconds between polls."
    ),
    stream: bool = typer.Option(False, "--stream", help="Keep following the file (or polling the server)."),
    idle_timeout: float | None = typer.Option(
        None, "--idle-timeout", help="With --stream: stop after this many idle seconds."
    ),
    safeguards: Path | None = SAFEGUARDS,
    ledger: Path | None = LEDGER,
    who: str | None = typer.Option(None, "--as", help="Who requests the actions (default: the OS user)."),
    database: str | None = typer.Option(
        None, "--database", help="Bastion store URL for Bastion user/token actions."
    ),
    fmt: Format = FORMAT,
) -> int:
    """Run playbooks over alerts under the safeguards."""
    from bastion.respond.alerts import AlertReader

    if (alerts is None) == (server is None):
        raise UsageError("give one alert source: --alerts FILE (- for stdin) or --server URL")
    responder = _responder(playbooks, safeguards, ledger, who, database)
    recovered = responder.recover()
    reader = AlertReader()
    lines = (
        _server_lines(responder, server, token or "", project, stream, poll_s, idle_timeout)
        if server is not None
        else _lines(alerts or Path("-"), stream, idle_timeout)  # exactly one source: checked above
    )
    outcomes = recovered + responder.run(reader.read(lines))
    _print(outcomes, fmt)
    for line in reader.errors:
        error_console().print(f"error: {line}")
    if reader.errors:
        error_console().print(f"{len(reader.errors)} malformed alert line(s) skipped")
        return EXIT_ERROR
    return EXIT_CLEAN


def plan(
    alerts: Path = typer.Argument(..., help="Alerts as JSON lines."),
    playbooks: Path = typer.Option(..., "--playbooks", help="Directory of playbook YAML files."),
    safeguards: Path | None = SAFEGUARDS,
    ledger: Path | None = LEDGER,
    fmt: Format = FORMAT,
) -> int:
    """Plan only: every matching action, even of active playbooks, is described and not applied."""
    from bastion.respond.alerts import AlertReader

    responder = _responder(playbooks, safeguards, ledger)
    reader = AlertReader()
    outcomes = [
        outcome
        for alert in reader.read(_lines(alerts, False, None))
        if alert is not None
        for outcome in responder.handle(alert, dry_run=True)
    ]
    _print(outcomes, fmt)
    for line in reader.errors:
        error_console().print(f"error: {line}")
    return EXIT_ERROR if reader.errors else EXIT_CLEAN


def approve(
    action_id: str = typer.Argument(..., help="The pending action's id."),
    who: str = typer.Option(..., "--as", help="The approver (must differ from the requester)."),
    playbooks: Path | None = PLAYBOOKS,
    safeguards: Path | None = SAFEGUARDS,
    ledger: Path | None = LEDGER,
    database: str | None = typer.Option(None, "--database", help="Bastion store URL."),
    fmt: Format = FORMAT,
) -> int:
    """Approve and apply."""
    responder = _responder(playbooks, safeguards, ledger, database=database)
    _print([responder.approve(action_id, who)], fmt)
    return EXIT_CLEAN


def undo(
    action_id: str = typer.Argument(..., help="The applied action's id."),
    who: str | None = typer.Option(None, "--as", help="Who undoes it (default: the OS user)."),
    ledger: Path | None = LEDGER,
    database: str | None = typer.Option(None, "--database", help="Bastion store URL."),
    fmt: Format = FORMAT,
) -> int:
    """Undo one action."""
    responder = _responder(None, None, ledger, database=database, need_playbooks=False)
    _print([responder.undo(action_id, _user(who))], fmt)
    return EXIT_CLEAN


def confirm(
    action_id: str = typer.Argument(..., help="The applied action's id."),
    who: str | None = typer.Option(None, "--as", help="Who confirms it."),
    ledger: Path | None = LEDGER,
    fmt: Format = FORMAT,
) -> int:
    """Cancel the automatic undo of one action."""
    responder = _responder(None, None, ledger, need_playbooks=False)
    _print([responder.confirm(action_id, _user(who))], fmt)
    return EXIT_CLEAN


def status(ledger: Path | None = LEDGER, fmt: Format = FORMAT) -> int:
    """Print the state of the response layer."""
    from bastion.respond.ledger import Status

    responder = _responder(None, None, ledger, need_playbooks=False)
    pending = responder.ledger.with_status(Status.PENDING)
    applied = responder.ledger.with_status(Status.APPLIED)
    limbo = responder.ledger.with_status(Status.INTENT, Status.UNKNOWN)
    if fmt is Format.JSON:

        def row(r: ActionRecord) -> dict[str, object]:
            expires = r.approval_expires_at
            return {"id": r.id, "playbook": r.playbook, "action": r.action, "target": r.target,
                    "requested_by": r.requested_by, "undo_at": r.undo_at.isoformat() if r.undo_at else None,
                    "approval_expires_at": expires.isoformat() if expires else None,
                    "confirmed": r.confirmed}  # fmt: skip

        data = {
            "kill_switch": responder.kill_switch, "breaker": responder.breaker or None,
            "pending": [row(r) for r in pending], "in_force": [row(r) for r in applied],
            "unresolved": [row(r) for r in limbo], "audit_intact": responder.ledger.verify() is None,
        }  # fmt: skip
        typer.echo(json.dumps(data, indent=2))
        return EXIT_CLEAN
    typer.echo(f"kill switch: {'ON' if responder.kill_switch else 'off'}")
    typer.echo(f"circuit breaker: {'OPEN (' + responder.breaker + ')' if responder.breaker else 'closed'}")
    typer.echo(f"pending approval: {len(pending)}")
    for r in pending:
        typer.echo(
            f"  {r.id}  {r.playbook}/{r.action} {r.target}  by {r.requested_by},"
            f" expires {r.approval_expires_at}"
        )
    typer.echo(f"in force: {len(applied)}")
    for r in applied:
        ttl = (
            "confirmed"
            if r.confirmed
            else (f"undo at {r.undo_at:%Y-%m-%d %H:%M:%S}" if r.undo_at else "no TTL")
        )
        typer.echo(f"  {r.id}  {r.playbook}/{r.action} {r.target}  {ttl}")
    if limbo:
        typer.echo(f"unresolved (crash recovery could not tell): {len(limbo)}")
    broken = responder.ledger.verify()
    typer.echo("audit log: intact" if broken is None else f"audit log: TAMPERED at row {broken}")
    return EXIT_CLEAN


def kill_switch(
    position: Switch = typer.Argument(..., help="on or off."),
    who: str | None = typer.Option(None, "--as", help="Who flips it."),
    ledger: Path | None = LEDGER,
) -> int:
    """Flip the global kill switch."""
    responder = _responder(None, None, ledger, need_playbooks=False)
    responder.set_kill_switch(position is Switch.ON, _user(who))
    typer.echo(f"kill switch {position.value}")
    return EXIT_CLEAN


def breaker_reset(
    who: str | None = typer.Option(None, "--as", help="Who resets it."), ledger: Path | None = LEDGER
) -> int:
    """Close the circuit breaker."""
    responder = _responder(None, None, ledger, need_playbooks=False)
    responder.reset_breaker(_user(who))
    typer.echo("circuit breaker closed")
    return EXIT_CLEAN


def expire(
    playbooks: Path | None = PLAYBOOKS, ledger: Path | None = LEDGER,
    database: str | None = typer.Option(None, "--database", help="Bastion store URL."), fmt: Format = FORMAT,
) -> int:  # fmt: skip
    """Run the TTL expiry once."""
    responder = _responder(playbooks, None, ledger, database=database, need_playbooks=False)
    _print(responder.recover() + responder.expire(), fmt)
    return EXIT_CLEAN


def verify(ledger: Path | None = LEDGER) -> int:
    """Verify the audit chain."""
    responder = _responder(None, None, ledger, need_playbooks=False)
    broken = responder.ledger.verify()
    if broken is None:
        typer.echo(f"audit log intact ({len(responder.ledger.entries())} entries)")
        return EXIT_CLEAN
    typer.echo(f"audit log tampered with: chain breaks at row {broken}")
    return 1


def drill(
    exercise: Path = typer.Argument(..., help="Output directory of `bastion drill run`."),
    playbooks: Path = typer.Option(..., "--playbooks", help="Directory of playbook YAML files."),
    safeguards: Path | None = SAFEGUARDS,
    promote: bool = typer.Option(False, "--promote", help="Treat dry-run playbooks as active."),
    extra_ms: float = typer.Option(
        0.0, "--action-latency-ms", min=0.0, help="Add this execution time to each automatic action."
    ),
    fmt: Format = FORMAT,
) -> int:
    """Score time to contain with and without automatic response over a drill's journal."""
    from bastion.respond.drill import TEAM, compare
    from bastion.respond.playbook import load_playbooks, load_safeguards

    result = compare(
        exercise, load_playbooks(playbooks), load_safeguards(safeguards), promote=promote, extra_ms=extra_ms
    )
    if fmt is Format.JSON:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return EXIT_CLEAN

    def cell(median: float | None, n: int) -> str:
        return "-" if median is None else f"{median:.0f}s (n={n})"

    typer.echo(f"{result.exercise}: time to contain, median over runs (automatic response as team {TEAM})")
    heads = ("TTD", "teams only", "auto only", "with auto")
    typer.echo(f"{'scenario':<34} {'detected':>8}  " + "  ".join(f"{h:>12}" for h in heads))
    for r in result.rows:
        typer.echo(
            f"{r.scenario:<34} {r.detected:>3}/{r.runs:<4}  {cell(r.ttd.median, r.ttd.n):>12}  "
            f"{cell(r.ttc_teams.median, r.ttc_teams.n):>12}  {cell(r.ttc_auto.median, r.ttc_auto.n):>12}  "
            f"{cell(r.ttc_with.median, r.ttc_with.n):>12}"
        )
    typer.echo("actions: " + (", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items())) or "none"))
    for reason, count in result.reasons.most_common():
        typer.echo(f"  not applied x{count}: {reason}")
    typer.echo(f"applied on false alerts: {result.on_false_alerts}")
    lat = result.latency()
    if lat["p50_ms"] is not None and lat["p99_ms"] is not None:
        typer.echo(
            f"alert to action (sandbox, in process): p50 {lat['p50_ms']:.2f} ms, p99 {lat['p99_ms']:.2f} ms"
            + (f" + {extra_ms:g} ms execution" if extra_ms else "")
        )
    return EXIT_CLEAN
