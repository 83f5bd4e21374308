"""``bastion org``: the organisation's repositories, their schedules and scan jobs."""

from __future__ import annotations

import enum
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.output import EXIT_CLEAN, EXIT_ERROR, command, error_console
from bastion.cli.worker import BROKER, DATABASE, NAMESPACE, default_cache, resolve_broker
from bastion.errors import UsageError

if TYPE_CHECKING:
    from bastion.jobs.board import JobView
    from bastion.store.db import Store

__all__ = ["register"]

org_app = typer.Typer(
    help="Scan every repository of the organisation, one job per repository.\n\n"
    "Example: bastion org add https://git.example.com/team/api.git && bastion org scan --all",
    no_args_is_help=True,
)


class Format(enum.StrEnum):
    """Output formats."""

    TABLE = "table"
    JSON = "json"


def register(app: typer.Typer) -> None:
    """Add the ``org`` command group to ``app``."""
    for name, func, text in (
        ("add", add, "Add repositories (URLs or local paths).\n\nExample: bastion org add ../api ../web"),
        ("list", list_repos, "List the repositories and their schedules.\n\nExample: bastion org list"),
        ("schedule", schedule, "Scan repositories on a schedule (a worker enqueues them when due).\n\n"
         "Example: bastion org schedule --every 24h"),
        ("scan", scan, "Scan repositories now: on the workers with a broker, else in this process.\n\n"
         "Example: bastion org scan --all --wait"),
        ("jobs", jobs, "Show scan jobs and their states (queued, running, retried, done, failed, dead).\n\n"
         "Example: bastion org jobs --state dead --format json"),
    ):  # fmt: skip
        org_app.command(name, help=text)(command(func))
    app.add_typer(org_app, name="org")


def _store(database_url: str | None) -> Store:
    from bastion.store.db import Store

    store = Store.open(database_url)
    store.migrate()
    return store


def add(
    repos: list[str] = typer.Argument(..., help="Repository URLs or paths."),
    database_url: str | None = DATABASE,
) -> int:
    """Add repositories."""
    from bastion.jobs import org

    store = _store(database_url)
    added = org.add(store, [_normal(repo) for repo in repos])
    store.close()
    typer.echo(f"added {len(added)} repositories ({len(repos) - len(added)} already there)")
    return EXIT_CLEAN


def _normal(repo: str) -> str:
    if "://" in repo or repo.startswith("git@"):
        return repo
    return str(Path(repo).absolute())


def list_repos(database_url: str | None = DATABASE) -> int:
    """List repositories."""
    from bastion.jobs import org

    store = _store(database_url)
    for repo in org.repos(store):
        every = (
            f"every {repo.every_s} s, next {repo.next_due:%Y-%m-%d %H:%M}"
            if repo.every_s and repo.next_due
            else "-"
        )
        typer.echo(f"{repo.url}\t{every}")
    store.close()
    return EXIT_CLEAN


def schedule(
    every: str = typer.Option(..., "--every", help="Interval: 90s, 30m, 24h, 7d."),
    repos: list[str] | None = typer.Argument(None, help="Repositories (default: all)."),
    database_url: str | None = DATABASE,
) -> int:
    """Set a schedule."""
    from bastion.jobs import org

    seconds = org.parse_every(every)
    store = _store(database_url)
    count = org.schedule(store, seconds, [_normal(r) for r in repos] if repos else None)
    store.close()
    typer.echo(f"scheduled {count} repositories every {every.strip()}")
    return EXIT_CLEAN


def scan(
    repos: list[str] | None = typer.Argument(None, help="Repositories (added first if new)."),
    all_repos: bool = typer.Option(False, "--all", help="Every repository added with org add."),
    broker: str | None = BROKER,
    database_url: str | None = DATABASE,
    namespace: str = NAMESPACE,
    allow_local: bool = typer.Option(
        False,
        "--allow-local",
        help="When the broker is down, run the jobs in this process instead of failing.",
    ),
    wait: bool = typer.Option(False, "--wait", help="With a broker: wait until every job has ended."),
    wait_timeout: float = typer.Option(3600.0, "--wait-timeout", help="Seconds --wait waits at most."),
    scanners: str | None = typer.Option(None, "--scanners", help="In-process only: scanners to run."),
    cache: Path | None = typer.Option(None, "--cache", help="In-process only: clone cache directory."),
) -> int:
    """Enqueue (or run) one job per repository."""
    from bastion.jobs import board, org
    from bastion.jobs.broker import BrokerUnavailable, JobQueue, QueueSettings, check_broker
    from bastion.jobs.models import JobState

    if not repos and not all_repos:
        raise UsageError("name repositories or pass --all")
    store = _store(database_url)
    targets = [_normal(r) for r in repos or []]
    org.add(store, targets)
    if all_repos:
        targets = [r.url for r in org.repos(store)]
    url = resolve_broker(broker)
    if url is not None:
        try:
            check_broker(url)
        except BrokerUnavailable as exc:
            if not allow_local:
                raise BrokerUnavailable(
                    f"{exc} (pass --allow-local to run the jobs in this process)"
                ) from None
            error_console().print(
                f"warning: {exc}; running {len(targets)} jobs in this process (--allow-local)"
            )
            url = None
    if url is None:
        return _scan_here(store, targets, scanners, cache)
    queue = JobQueue(url, QueueSettings(namespace=namespace))
    ids = queue.enqueue(store, targets)
    queue.close()
    typer.echo(f"queued {len(ids)} jobs")
    if not wait:
        store.close()
        return EXIT_CLEAN
    deadline = time.monotonic() + wait_timeout
    ended = {JobState.DONE, JobState.FAILED, JobState.DEAD}
    while time.monotonic() < deadline:
        views = [board.job(store, job_id) for job_id in ids]
        if all(v is not None and v.state in ended for v in views):
            break
        time.sleep(0.5)
    views_final = [v for v in (board.job(store, job_id) for job_id in ids) if v is not None]
    store.close()
    _print(views_final, Format.TABLE)
    return EXIT_CLEAN if all(v.state is JobState.DONE for v in views_final) else EXIT_ERROR


def _scan_here(store: Store, targets: list[str], scanners: str | None, cache: Path | None) -> int:
    from bastion.jobs.broker import run_local
    from bastion.jobs.models import JobState
    from bastion.jobs.run import JobContext
    from bastion.jobs.scan import ScanLimits

    names = tuple(n.strip() for n in scanners.split(",") if n.strip()) if scanners else None
    context = JobContext(store, cache or default_cache(), scan_limits=ScanLimits(scanners=names))
    views = run_local(context, targets)
    store.close()
    _print(views, Format.TABLE)
    return EXIT_CLEAN if all(v.state is JobState.DONE for v in views) else EXIT_ERROR


def jobs(
    state: str | None = typer.Option(None, "--state", help="Only jobs in this state."),
    fmt: Format = typer.Option(Format.TABLE, "--format", help="table or json."),
    database_url: str | None = DATABASE,
) -> int:
    """Show jobs."""
    from bastion.jobs import board
    from bastion.jobs.models import JobState

    chosen = None
    if state is not None:
        try:
            chosen = JobState(state)
        except ValueError:
            raise UsageError(
                f"--state {state!r}: choose from {', '.join(s.value for s in JobState)}"
            ) from None
    store = _store(database_url)
    views = board.jobs(store, state=chosen)
    store.close()
    _print(views, fmt)
    return EXIT_CLEAN


def _print(views: list[JobView], fmt: Format) -> None:
    if fmt is Format.JSON:
        typer.echo(json.dumps([v.to_dict() for v in views], indent=2))
        return
    for v in views:
        error = f"\t{v.error}" if v.error else ""
        typer.echo(f"{v.id[:12]}\t{v.state.value}\t{v.attempts}\t{v.findings}\t{v.repo}{error}")
