"""``bastion users``: list users, disable or enable one, set or remove a project role, and invite
someone, against the store on this machine (as ``bastion user create`` and ``bastion db migrate``).

The work is the store's, as for the ``/admin/users`` page and the users API; every change is an
audit event whose actor is ``system``. An invite's link is printed once and never stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from bastion.cli.output import EXIT_CLEAN, command
from bastion.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bastion.store.models import User

__all__ = ["register"]

ACTOR = "system"
"""Who the audit events of the command line name (as ``bastion user create``)."""
NO_ROLE = "none"

users_app = typer.Typer(
    help="List and change dashboard users and roles, and invite people.\n\nExample: bastion users list",
    no_args_is_help=True,
)
DatabaseUrl = typer.Option(None, "--database-url", help="Database URL (default: as serve).")


def register(app: typer.Typer) -> None:
    """Add the users group to ``app``."""
    commands: list[tuple[str, Callable[..., int], str]] = [
        (
            "list",
            users_list,
            "List users with their site role, state and project roles.\n\nExample: bastion users list --json",
        ),
        (
            "disable",
            users_disable,
            "Disable a user: no sign-in, open sessions end.\n\nExample: bastion users disable maya",
        ),
        ("enable", users_enable, "Enable a disabled user again.\n\nExample: bastion users enable maya"),
        (
            "role",
            users_role,
            "Give USER ROLE (viewer, maintainer, admin) in PROJECT, or take them out of it (none).\n\n"
            "Example: bastion users role maya payments maintainer",
        ),
        (
            "invite",
            users_invite,
            "Invite someone: prints the link (once) that lets them choose a password.\n\n"
            "--send e-mails it through the SMTP channel of the integrations file (BASTION_INTEGRATIONS).\n\n"
            "Example: bastion users invite --email nina@example.org --role payments=maintainer "
            "--url https://bastion.example.com",
        ),
        (
            "invites",
            users_invites,
            "List invites (pending ones unless --all).\n\nExample: bastion users invites --all",
        ),
        ("revoke", users_revoke, "Revoke a pending invite by id.\n\nExample: bastion users revoke 3"),
    ]
    for name, func, text in commands:
        users_app.command(name, help=text)(command(func))
    app.add_typer(users_app, name="users")


@contextmanager
def _session(database_url: str | None) -> Iterator[Session]:
    """A write session on the migrated store; database errors become one-line InputErrors."""
    from sqlalchemy.exc import SQLAlchemyError

    from bastion.store.db import Store

    store = Store.open(database_url)
    try:
        store.migrate()
        with store.write() as session:
            yield session
    except SQLAlchemyError as exc:
        raise InputError(f"database {store.engine.url!r}: {str(exc).splitlines()[0]}") from None
    finally:
        store.close()


def _user(session: Session, username: str) -> User:
    from sqlalchemy import select

    from bastion.store.models import User

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise InputError(f"no user named {username!r}")
    return user


def users_list(
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
    database_url: str | None = DatabaseUrl,
) -> int:
    """Print every user."""
    from bastion.store.users import list_users

    with _session(database_url) as session:
        rows = list_users(session)
    if as_json:
        data = [
            {
                "username": r.username,
                "is_admin": r.is_admin,
                "disabled": r.disabled,
                "created_at": r.created_at.isoformat(),
                "roles": r.roles,
            }
            for r in rows
        ]
        typer.echo(json.dumps({"users": data}, indent=2))
        return EXIT_CLEAN
    width = max([len("USER"), *(len(r.username) for r in rows)])
    typer.echo(f"{'USER':<{width}}  {'SITE ROLE':<13}  {'STATE':<8}  PROJECT ROLES")
    for r in rows:
        roles = ", ".join(f"{slug}={role}" for slug, role in r.roles.items()) or "-"
        site = "administrator" if r.is_admin else "member"
        typer.echo(f"{r.username:<{width}}  {site:<13}  {'disabled' if r.disabled else 'active':<8}  {roles}")
    return EXIT_CLEAN


def _set_disabled(username: str, disabled: bool, database_url: str | None) -> int:
    from bastion.store.users import set_disabled

    with _session(database_url) as session:
        user = _user(session, username)
        changed = set_disabled(session, user, disabled, ACTOR)
    state = "disabled" if disabled else "enabled"
    typer.echo(f"{username}: {state}" if changed else f"{username}: already {state}")
    return EXIT_CLEAN


def users_disable(
    username: str = typer.Argument(..., help="User name."), database_url: str | None = DatabaseUrl
) -> int:
    """Disable a user."""
    return _set_disabled(username, True, database_url)


def users_enable(
    username: str = typer.Argument(..., help="User name."), database_url: str | None = DatabaseUrl
) -> int:
    """Enable a user."""
    return _set_disabled(username, False, database_url)


def users_role(
    username: str = typer.Argument(..., help="User name."),
    project: str = typer.Argument(..., help="Project slug."),
    role: str = typer.Argument(..., help="viewer, maintainer, admin, or none to take the user out."),
    database_url: str | None = DatabaseUrl,
) -> int:
    """Set or remove a project role."""
    from sqlalchemy import select

    from bastion.store.accounts import set_role
    from bastion.store.models import ROLES, Project
    from bastion.store.users import remove_role

    if role != NO_ROLE and role not in ROLES:
        raise InputError(f"role {role!r}: choose from {', '.join(ROLES)} or {NO_ROLE}")
    with _session(database_url) as session:
        user = _user(session, username)
        chosen = session.scalar(select(Project).where(Project.slug == project))
        if chosen is None:
            raise InputError(f"project {project!r} does not exist")
        if role == NO_ROLE:
            removed = remove_role(session, user, chosen, ACTOR)
            typer.echo(f"{username}: removed from {project}" if removed else f"{username}: not in {project}")
            return EXIT_CLEAN
        set_role(session, user, chosen, role, ACTOR)
    typer.echo(f"{username}: {role} in {project}")
    return EXIT_CLEAN


def _roles(pairs: list[str]) -> dict[str, str]:
    roles: dict[str, str] = {}
    for pair in pairs:
        slug, sep, role = pair.partition("=")
        if not sep or not slug.strip() or not role.strip():
            raise InputError(f"--role {pair!r}: write PROJECT=ROLE, e.g. payments=maintainer")
        roles[slug.strip()] = role.strip()
    return roles


def users_invite(
    username: str = typer.Argument("", help="User name (default: the e-mail address)."),
    email: str = typer.Option("", "--email", help="The person's e-mail address."),
    admin: bool = typer.Option(False, "--admin", help="Site administrator (all projects)."),
    role: list[str] = typer.Option([], "--role", help="PROJECT=ROLE, repeatable."),
    days: int = typer.Option(7, "--days", help="Days the link works (1-90)."),
    url: str = typer.Option("", "--url", help="The server's address, for a full link."),
    send: bool = typer.Option(
        False, "--send", help="E-mail the link (SMTP channel of BASTION_INTEGRATIONS)."
    ),
    database_url: str | None = DatabaseUrl,
) -> int:
    """Create an invite and print its link once."""
    from bastion.server.invites import integrations_config, invite_link, mail_invite
    from bastion.store.invites import create_invite

    if url and not url.startswith(("https://", "http://")):
        raise InputError(f"--url {url!r}: an http(s) address, e.g. https://bastion.example.com")
    roles = _roles(role)
    with _session(database_url) as session:
        issued = create_invite(session, username, ACTOR, email=email, admin=admin, roles=roles, days=days)
        link = invite_link(url, issued.token) if url else f"/invite#{issued.token}"
        invite = issued.invite
    # mailed once committed: no one gets a link to an invite that was rolled back
    outcome = mail_invite(integrations_config(None), issued, link) if send else None
    typer.echo(f"invite {invite.id} for {invite.username}, until {invite.expires_at:%Y-%m-%d %H:%M} UTC")
    typer.echo(f"link (shown once): {link}")
    if not url:
        typer.echo("prefix the server's address (or pass --url) before handing the link over")
    if outcome is not None:
        typer.echo(outcome.note)
    return EXIT_CLEAN


def users_invites(
    show_all: bool = typer.Option(False, "--all", help="Also used, revoked and expired invites."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
    database_url: str | None = DatabaseUrl,
) -> int:
    """List invites, newest first."""
    from bastion.store.invites import list_invites

    with _session(database_url) as session:
        rows = list_invites(session, pending_only=not show_all)
    if as_json:
        typer.echo(json.dumps({"invites": [r.to_dict() for r in rows]}, indent=2))
        return EXIT_CLEAN
    if not rows:
        typer.echo("no pending invite" if not show_all else "no invite")
        return EXIT_CLEAN
    for r in rows:
        roles = ", ".join(f"{slug}={role}" for slug, role in r.roles.items()) or "-"
        admin = " administrator" if r.is_admin else ""
        typer.echo(
            f"{r.id:>4}  {r.state:<8}  {r.username}{admin}  {roles}  by {r.created_by}, "
            f"until {r.expires_at:%Y-%m-%d %H:%M}"
        )
    return EXIT_CLEAN


def users_revoke(
    invite_id: int = typer.Argument(..., help="Invite id (bastion users invites)."),
    database_url: str | None = DatabaseUrl,
) -> int:
    """Revoke a pending invite."""
    from bastion.store.invites import revoke_invite

    with _session(database_url) as session:
        changed = revoke_invite(session, invite_id, ACTOR)
    typer.echo(f"invite {invite_id}: revoked" if changed else f"invite {invite_id}: was not pending")
    return EXIT_CLEAN
