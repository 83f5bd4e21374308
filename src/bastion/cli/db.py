"""``bastion db update|import|status``: the advisory database.

``db_app`` is a module-level Typer sub-app so other command modules can add commands to
the group (``@db_app.command("migrate")``). Heavy imports happen inside the commands.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from bastion.cli.output import EXIT_CLEAN, command, error_console
from bastion.errors import ConfigError

__all__ = ["advisory_database", "db_app", "deps_table", "register"]

db_app = typer.Typer(
    name="db",
    help="The advisory database (OSV + CISA KEV) used by the deps scanner.\n\nExample: bastion db status",
    no_args_is_help=True,
)

OSV_URL_ENV = "BASTION_OSV_URL"
KEV_URL_ENV = "BASTION_KEV_URL"

_DATABASE = typer.Option(
    None,
    "--database",
    "-d",
    help="Database file (default: \\[scanners.deps] database, $BASTION_ADVISORY_DB, user cache).",
)
_CONFIG = typer.Option(
    None, "--config", "-c", help="Config file (default: bastion.toml or pyproject.toml here)."
)
_TRUST = typer.Option(
    False,
    "--trust-repo-config",
    help="Use the database, osv_url and kev_url of the config found in the current directory "
    "(without it, a checked-out repository cannot choose where Bastion writes or what it downloads).",
)
_REPO_KEYS = frozenset({"stale_days"})
"""``[scanners.deps]`` keys a config found in the current directory may set without the flag."""


def register(app: typer.Typer) -> None:
    """Add ``bastion db`` to ``app``."""
    app.add_typer(db_app, name="db")


def deps_table(config: Path | None, trust: bool = False, where: Path | None = None) -> dict[str, Any]:
    """The ``[scanners.deps]`` table of ``config``, else of the config found in ``where`` (default:
    the current directory); from the latter, without ``trust``, only the keys that choose no path
    and no URL."""
    from bastion.config import find_config_file, read_config_table

    path = config or find_config_file(where or Path.cwd())
    if path is None:
        return {}
    table = read_config_table(path).get("scanners", {}).get("deps", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [scanners.deps] must be a table")
    if config is None and not trust:
        dropped = sorted(key for key in table if key not in _REPO_KEYS)
        if dropped:
            names = ", ".join(f"scanners.deps.{key}" for key in dropped)
            error_console().print(
                f"{path}: not applied: {names} (pass --trust-repo-config or --config {path} to apply them)"
            )
        table = {key: value for key, value in table.items() if key in _REPO_KEYS}
    from bastion.scan.deps.options import parse_options

    options = parse_options(table).model_dump()
    if options.get("database") and not Path(options["database"]).is_absolute():
        options["database"] = str(path.parent / options["database"])
    return options


def advisory_database(database: Path | None, table: dict[str, Any]) -> Path:
    """``database`` if named, else the table's ``database``, else $BASTION_ADVISORY_DB or the cache."""
    from bastion.advisories import resolve_database

    return resolve_database(database or table.get("database"))


def update(
    ecosystem: list[str] | None = typer.Option(
        None, "--ecosystem", "-e", help="Ecosystem to update (OSV spelling: PyPI, npm, Maven...); repeatable."
    ),
    osv_url: str | None = typer.Option(
        None, "--osv-url", help=f"Base URL of BASE/<Ecosystem>/all.zip (file:// allowed). Env: {OSV_URL_ENV}."
    ),
    kev_url: str | None = typer.Option(
        None, "--kev-url", help=f"URL of the CISA KEV JSON catalog (file:// allowed). Env: {KEV_URL_ENV}."
    ),
    no_kev: bool = typer.Option(False, "--no-kev", help="Leave the KEV catalog as it is."),
    database: Path | None = _DATABASE,
    config: Path | None = _CONFIG,
    trust_repo_config: bool = _TRUST,
) -> int:
    """Download the OSV ecosystem archives and the KEV catalog; the swap is atomic."""
    from bastion.advisories.records import canonical_ecosystem
    from bastion.advisories.sync import DEFAULT_KEV_URL, DEFAULT_OSV_URL, update_database
    from bastion.advisories.versions import SUPPORTED_ECOSYSTEMS

    table = deps_table(config, trust_repo_config)
    path = advisory_database(database, table)
    ecosystems = [canonical_ecosystem(e) for e in ecosystem] if ecosystem else list(SUPPORTED_ECOSYSTEMS)
    errors = error_console()
    report = update_database(
        path,
        osv_url=osv_url or os.environ.get(OSV_URL_ENV) or table.get("osv_url") or DEFAULT_OSV_URL,
        kev_url=None
        if no_kev
        else kev_url or os.environ.get(KEV_URL_ENV) or table.get("kev_url") or DEFAULT_KEV_URL,
        ecosystems=ecosystems,
        progress=lambda message: errors.print(message),
    )
    for name, imported in report.imported.items():
        typer.echo(f"{name}: {imported.written} records written, {imported.unchanged} unchanged")
        for problem in imported.problems[:20]:
            errors.print(f"  {problem}")
    for name in report.unchanged:
        typer.echo(f"{name}: archive unchanged since the last update")
    if report.kev_entries is not None:
        typer.echo(f"KEV: {report.kev_entries} known exploited vulnerabilities")
    typer.echo(f"database: {path}")
    return EXIT_CLEAN


def import_(
    path: Path = typer.Argument(
        ..., help="Directory or zip of OSV records (JSON or YAML), or a KEV JSON file with --kev."
    ),
    kev: bool = typer.Option(False, "--kev", help="PATH is a CISA KEV catalog (JSON)."),
    database: Path | None = _DATABASE,
    config: Path | None = _CONFIG,
    trust_repo_config: bool = _TRUST,
) -> int:
    """Import OSV records or the KEV catalog from local files (air-gapped sites)."""
    from bastion.advisories.db import connect, transaction
    from bastion.advisories.importer import import_kev, import_osv
    from bastion.errors import InputError

    target = advisory_database(database, deps_table(config, trust_repo_config))
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    conn = connect(target, create=True)
    try:
        with transaction(conn, target):
            if kev:
                try:
                    raw = path.read_bytes()
                except OSError as exc:
                    raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
                typer.echo(f"KEV: {import_kev(conn, raw, str(path))} known exploited vulnerabilities")
            else:
                report = import_osv(conn, path)
                errors = error_console()
                for problem in report.problems:
                    errors.print(f"skipped {problem}")
                counts = ", ".join(f"{k} {v}" for k, v in sorted(report.ecosystems.items()))
                typer.echo(
                    f"{report.written} records written, {report.unchanged} unchanged, "
                    f"{len(report.problems)} skipped ({counts or 'no ecosystems'})"
                )
    finally:
        conn.close()
    typer.echo(f"database: {target}")
    return EXIT_CLEAN


def status(
    database: Path | None = _DATABASE,
    config: Path | None = _CONFIG,
    trust_repo_config: bool = _TRUST,
    stale_days: int = typer.Option(7, "--stale-days", help="Call an ecosystem stale after this many days."),
) -> int:
    """Print advisory counts and age per ecosystem, and the KEV catalog size."""
    from bastion.advisories.db import connect, read_status
    from bastion.advisories.versions import SUPPORTED_ECOSYSTEMS

    path = advisory_database(database, deps_table(config, trust_repo_config))
    conn = connect(path)
    try:
        info = read_status(conn, path)
    finally:
        conn.close()
    typer.echo(f"database: {path} ({info.size_bytes / 1e6:.1f} MB)")
    typer.echo(f"{'ecosystem':<14} {'advisories':>10} {'packages':>9}  updated")
    for eco in info.ecosystems:
        age = eco.age_days()
        when = f"{eco.updated:%Y-%m-%d} ({age} days ago)" if eco.updated is not None else "unknown"
        when += "" if eco.advisories else "  (loaded, but no advisories: packages skipped)"
        stale = "  STALE: run `bastion db update`" if age is not None and age > stale_days else ""
        typer.echo(f"{eco.ecosystem:<14} {eco.advisories:>10} {eco.packages:>9}  {when}{stale}")
    held = {eco.ecosystem for eco in info.ecosystems if eco.advisories}
    missing = [name for name in SUPPORTED_ECOSYSTEMS if name not in held]
    if missing:
        typer.echo(
            f"no advisories for: {', '.join(missing)} (the deps scanner skips their packages; "
            "`bastion db update -e NAME` loads them)"
        )
    kev_when = f", loaded {info.kev_updated:%Y-%m-%d}" if info.kev_updated else ""
    typer.echo(f"KEV: {info.kev_entries} known exploited vulnerabilities{kev_when}")
    return EXIT_CLEAN


db_app.command(
    "update",
    help="Download the OSV archives (BASE/<Ecosystem>/all.zip) and the CISA KEV catalog; "
    "an interrupted update leaves the previous database usable.\n\n"
    "Example: bastion db update --ecosystem PyPI --osv-url file:///mirror/osv",
)(command(update))
db_app.command(
    "import",
    help="Import a directory or zip of OSV JSON/YAML records, or a KEV catalog with --kev.\n\n"
    "Example: bastion db import ./advisory-database/vulns",
)(command(import_))
db_app.command(
    "status", help="Counts and age per ecosystem, and the KEV catalog size.\n\nExample: bastion db status"
)(command(status))
