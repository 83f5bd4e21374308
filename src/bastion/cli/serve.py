"""``bastion serve``, ``bastion upload`` and ``bastion user``: the platform server's commands."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import typer

from bastion.cli.output import EXIT_CLEAN, command
from bastion.errors import InputError, UsageError

__all__ = ["register"]

SERVE_HELP = """Run the platform server: REST API and dashboard over the store.

The store is SQLite in the user data directory unless BASTION_DATABASE_URL names a
PostgreSQL database (postgresql://user@host/db). Migrations run at start.

Single sign-on (OpenID Connect, code flow with PKCE): BASTION_OIDC_ISSUER, BASTION_OIDC_CLIENT_ID and
BASTION_OIDC_CLIENT_SECRET; optional BASTION_OIDC_USERNAME_CLAIM (email), BASTION_OIDC_ALLOWED_DOMAINS,
BASTION_OIDC_CREATE_USERS (true: a first sign-in creates the user, without project roles) and
BASTION_OIDC_NAME (the button's label). Register <server>/login/oidc/callback as the redirect URI.

Example: bastion serve --host 127.0.0.1 --port 8000
"""

UPLOAD_HELP = """Upload a Bastion JSON report, a SARIF 2.1.0 log or another tool's report to a Bastion server.

Another tool's report (Trivy, gitleaks, Grype, ZAP...: see bastion import --help) is converted
to Bastion's JSON report first; --tool names the tool when it cannot be detected.

The token (a project token from the dashboard) comes from --token or BASTION_TOKEN.

The scan is recorded for a repository and branch, so a finding fixed on main and still open on
release/1.2 shows as such: --repository and --branch, else BASTION_REPOSITORY/BASTION_BRANCH, the
CI system's variables (GITHUB_REPOSITORY/GITHUB_REF_NAME, CI_PROJECT_PATH/CI_COMMIT_REF_NAME,
BUILD_REPOSITORY_URI/BUILD_SOURCEBRANCH, BITBUCKET_BRANCH, GIT_BRANCH, CIRCLE_BRANCH,
BUILDKITE_BRANCH), else git in --source (the current directory). Neither known: the default branch.

Example: bastion upload bastion.sarif --url https://bastion.example.com --project payments
"""

user_app = typer.Typer(
    help="Manage dashboard users.\n\nExample: bastion user create alice --admin", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add serve, upload and the user group to ``app``."""
    app.command("serve", help=SERVE_HELP)(command(serve))
    app.command("upload", help=UPLOAD_HELP)(command(upload))
    user_app.command(
        "create",
        help="Create a user (the first one with --admin).\n\n"
        "The password is prompted for, or read from BASTION_PASSWORD.\n\n"
        "Example: bastion user create alice --admin",
    )(command(user_create))
    app.add_typer(user_app, name="user")
    from bastion.cli.db import db_app

    db_app.command(
        "migrate",
        help="Create or upgrade the platform store's schema (the server also does this at start).\n\n"
        "Example: bastion db migrate --database-url postgresql://bastion@db/bastion",
    )(command(migrate))


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on.", min=0, max=65535),
    database_url: str | None = typer.Option(
        None, "--database-url", help="Database URL (default: BASTION_DATABASE_URL or the SQLite file)."
    ),
    sla: str | None = typer.Option(
        None,
        "--sla",
        help="Days to fix by severity, e.g. critical=3,high=14 (default: BASTION_SLA or 7/30/90/180).",
    ),
    workers_proxy: bool = typer.Option(
        False, "--behind-proxy", help="Trust X-Forwarded-Proto/For from a local TLS proxy (enables HSTS)."
    ),
) -> int:
    """Start uvicorn with the Bastion app."""
    import uvicorn

    from bastion.server.app import create_app
    from bastion.server.settings import ServerSettings
    from bastion.store.sla import SlaPolicy

    settings = ServerSettings.from_env(database_url)
    if sla is not None:
        settings = dataclasses.replace(settings, sla=SlaPolicy.parse(sla, "--sla"))
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, proxy_headers=workers_proxy, log_level="info", server_header=False)
    return EXIT_CLEAN


def upload(
    file: Path = typer.Argument(..., help="Bastion JSON report or SARIF 2.1.0 log."),
    url: str = typer.Option(..., "--url", help="Base URL of the Bastion server."),
    token: str | None = typer.Option(None, "--token", help="Project API token (default: BASTION_TOKEN)."),
    project: str | None = typer.Option(
        None, "--project", help="Project slug (default: the token's project)."
    ),
    partial: bool = typer.Option(False, "--partial", help="Do not mark absent findings fixed."),
    tool: str | None = typer.Option(
        None,
        "--tool",
        help="Another tool wrote it (trivy, gitleaks...): convert it first (default: detected).",
    ),
    repository: str | None = typer.Option(
        None, "--repository", help="Repository scanned, e.g. github.com/acme/shop (default: detected)."
    ),
    branch: str | None = typer.Option(
        None, "--branch", help="Branch scanned, e.g. main (default: detected)."
    ),
    source: Path = typer.Option(
        Path("."), "--source", help="The scanned directory, where git tells repository and branch."
    ),
) -> int:
    """Post one report file to the server and print what it changed."""
    from bastion.cli.imports import prepare_upload
    from bastion.server.client import CREDENTIAL_ENV, detect_place, upload_document

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"{file}: cannot read: {exc.strerror or exc}") from None
    data = prepare_upload(data, str(file), tool)
    secret = token or os.environ.get(CREDENTIAL_ENV, "")
    place = detect_place(source, repository, branch)
    result = upload_document(url, secret, data, str(file), project=project, full=not partial, place=place)
    where = result.get("branch") or "default branch"
    if result.get("repository"):
        where = f"{result['repository']} {where}"
    elsewhere = result.get("open_elsewhere", 0)
    typer.echo(
        f"{file}: scan {result['scan']} of {where} · {result['findings']} findings, {result['new']} new, "
        f"{result['reopened']} reopened, {result['fixed']} fixed"
        + (f" ({elsewhere} more fixed here, still open on other branches)" if elsewhere else "")
    )
    return EXIT_CLEAN


def migrate(
    database_url: str | None = typer.Option(None, "--database-url", help="Database URL (default: as serve)."),
    revision: str = typer.Option(
        "heads", "--revision", help="Target revision (default: the newest of every branch)."
    ),
) -> int:
    """Run the store's Alembic migrations up to ``revision``."""
    from sqlalchemy.exc import SQLAlchemyError

    from bastion.store.db import Store

    store = Store.open(database_url)
    try:
        before = store.current_revision() or "empty"
        after = store.migrate(revision)
    except SQLAlchemyError as exc:
        raise InputError(f"database {store.engine.url!r}: {str(exc).splitlines()[0]}") from None
    finally:
        store.close()
    typer.echo(f"store {store.engine.url!r}: {before} -> {after}")
    return EXIT_CLEAN


def user_create(
    username: str = typer.Argument(..., help="User name."),
    admin: bool = typer.Option(False, "--admin", help="Site administrator (all projects)."),
    database_url: str | None = typer.Option(None, "--database-url", help="Database URL (default: as serve)."),
) -> int:
    """Create a user in the store, migrating it first."""
    from bastion.store.accounts import create_user
    from bastion.store.db import Store

    password = os.environ.get("BASTION_PASSWORD", "")
    if not password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise UsageError("no password: set BASTION_PASSWORD or type one")
    store = Store.open(database_url)
    try:
        store.migrate()
        with store.write() as session:
            create_user(session, username, password, admin=admin)
    finally:
        store.close()
    typer.echo(f"created user {username}{' (admin)' if admin else ''}")
    return EXIT_CLEAN
