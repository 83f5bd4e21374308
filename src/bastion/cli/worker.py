"""``bastion worker``: scan jobs from the task queue (Dramatiq over Redis)."""

from __future__ import annotations

from pathlib import Path

import typer

from bastion.cli.output import EXIT_CLEAN, command, error_console
from bastion.errors import UsageError

__all__ = ["register", "resolve_broker"]

WORKER_HELP = """Run scan workers on the task queue: one job per repository (fetch, scan, store).

The broker is --broker or BASTION_BROKER_URL (redis://host:6379/0); the store is --database-url
or BASTION_DATABASE_URL (default: SQLite in the user data directory). A worker process that dies
is replaced; its job goes back to the queue once its heartbeat is older than --heartbeat-timeout.

Private repositories: over HTTPS the token comes from BASTION_GIT_TOKEN_<HOST> (the host upper-cased,
other characters as underscores: BASTION_GIT_TOKEN_GITHUB_COM), sent to that host only; over SSH the
worker's keys are used. A URL with credentials in it is refused when added.

Example: bastion worker --concurrency 2 --broker redis://127.0.0.1:6379/0
"""

BROKER = typer.Option(
    None, "--broker", help="Redis URL of the task queue (default: $BASTION_BROKER_URL, else \\[jobs] broker)."
)
DATABASE = typer.Option(None, "--database-url", help="Store URL (default: $BASTION_DATABASE_URL or SQLite).")
NAMESPACE = typer.Option("bastion", "--namespace", help="Prefix of the queue's Redis keys.")


def resolve_broker(broker: str | None) -> str | None:
    """``--broker``, else ``$BASTION_BROKER_URL``, else ``[jobs] broker`` of the bastion.toml (or
    pyproject.toml) in the working directory, else None (in-process); chosen by
    :func:`bastion.config.resolve_broker`."""
    from bastion.config import find_config_file, load_config
    from bastion.config import resolve_broker as choose

    found = find_config_file(Path.cwd())
    return choose(broker, load_config(found) if found is not None else None)


def default_cache() -> Path:
    """Where workers keep their clones."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("bastion", appauthor=False)) / "repos"


def register(app: typer.Typer) -> None:
    """Add ``bastion worker`` to ``app``."""
    app.command("worker", help=WORKER_HELP)(command(worker))


def worker(
    concurrency: int = typer.Option(2, "--concurrency", "-c", min=1, help="Worker processes (one per core)."),
    queues: str = typer.Option("scans", "--queues", help="Queues to consume (only 'scans' exists)."),
    broker: str | None = BROKER,
    database_url: str | None = DATABASE,
    namespace: str = NAMESPACE,
    cache: Path | None = typer.Option(None, "--cache", help="Clone cache directory."),
    scanners: str | None = typer.Option(None, "--scanners", help="Comma-separated scanners (default: all)."),
    max_retries: int = typer.Option(3, "--max-retries", min=0, help="Retries before a job is dead-lettered."),
    min_backoff_ms: int = typer.Option(1000, "--min-backoff-ms", min=1, help="First retry delay."),
    heartbeat_timeout_ms: int = typer.Option(
        60_000,
        "--heartbeat-timeout-ms",
        min=100,
        help="A worker silent this long is dead; its job is requeued.",
    ),
    maintenance_chance: int = typer.Option(
        1000,
        "--maintenance-chance",
        min=1,
        max=1_000_000,
        help="Per million broker calls: dead-worker checks.",
    ),
    memory_mb: int = typer.Option(2000, "--memory-mb", min=64, help="Memory cap of one scan."),
    scan_timeout: float = typer.Option(600.0, "--scan-timeout", min=0.1, help="Seconds one scan may take."),
    fetch_timeout: float = typer.Option(
        300.0, "--fetch-timeout", min=0.1, help="Seconds one clone may take."
    ),
    max_repo_mb: int = typer.Option(500, "--max-repo-mb", min=1, help="Size cap of one repository."),
    depth: int = typer.Option(1, "--depth", min=1, help="Clone depth."),
) -> int:
    """Run workers until interrupted."""
    from bastion.jobs.broker import QueueSettings, check_broker
    from bastion.jobs.fetch import FetchLimits
    from bastion.jobs.scan import ScanLimits
    from bastion.jobs.worker import WorkerSpec, supervise
    from bastion.store.db import Store

    unknown = {q.strip() for q in queues.split(",") if q.strip()} - {"scans"}
    if unknown:
        raise UsageError(f"--queues: unknown queue {', '.join(sorted(unknown))} (choose from: scans)")
    url = resolve_broker(broker)
    if url is None:
        raise UsageError(
            "no broker: pass --broker or set BASTION_BROKER_URL (without one, bastion org scan "
            "runs the jobs in-process)"
        )
    check_broker(url)
    store = Store.open(database_url)
    store.migrate()
    store.close()
    spec = WorkerSpec(
        broker_url=url,
        database_url=database_url,
        cache=cache or default_cache(),
        settings=QueueSettings(
            namespace=namespace,
            max_retries=max_retries,
            min_backoff_ms=min_backoff_ms,
            heartbeat_timeout_ms=heartbeat_timeout_ms,
            maintenance_chance=maintenance_chance,
        ),
        fetch_limits=FetchLimits(depth=depth, timeout_s=fetch_timeout, max_bytes=max_repo_mb * 1_000_000),
        scan_limits=ScanLimits(memory_mb * 1_000_000, scan_timeout, _scanners(scanners)),
        max_deliveries=max_retries + 3,
    )
    error_console().print(f"bastion worker: {concurrency} processes on queue scans")
    replaced = supervise(spec, concurrency)
    error_console().print(f"bastion worker: stopped ({replaced} worker processes replaced)")
    return EXIT_CLEAN


def _scanners(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    return tuple(name.strip() for name in text.split(",") if name.strip())
