"""Users and roles in the dashboard (site administrators only): list users, create one, disable
or enable one, and set or remove a user's role in each project (``/admin/users``).

The work is the store's: :func:`bastion.store.accounts.create_user` (the password rules of
``bastion user create``) and :func:`bastion.store.accounts.set_role`, as the CLI and the project
page use them, and :mod:`bastion.store.users`. Every change is an audit event naming the
administrator. A password is never put back into a page, a message or the log: a refused form
comes back with the name filled in and the password fields empty. Form fields are checked here,
not by FastAPI's validation, whose 422 answer would repeat the submitted values.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.server.api import project_by_slug
from bastion.server.auth import Principal
from bastion.server.deps import DB, principal
from bastion.server.web import render
from bastion.store.accounts import create_user, set_role
from bastion.store.invites import DEFAULT_DAYS, MAX_DAYS, list_invites
from bastion.store.models import ROLES, AuditEvent, Project
from bastion.store.users import list_users, remove_role, set_disabled, user_by_id

__all__ = ["NO_ROLE", "Admin", "pages", "refused_page", "site_admin"]

pages = APIRouter(prefix="/admin/users", include_in_schema=False)
NO_ROLE = "none"
"""The role form's choice that takes a user out of a project."""
_MAX_PASSWORD = 1024
_AUDITED = (
    "user.created",
    "user.disabled",
    "user.enabled",
    "member.role",
    "member.removed",
    "invite.created",
    "invite.accepted",
    "invite.revoked",
)


async def site_admin(who: Principal = Depends(principal)) -> Principal:
    """The caller, when a signed-in site administrator; 403 for anyone else (tokens included)."""
    if not who.is_admin:
        raise HTTPException(403, "site administrator role needed")
    return who


Admin = Depends(site_admin)


def _page(session: Session, who: Principal, **extra: Any) -> dict[str, Any]:
    recent = session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(_AUDITED)).order_by(AuditEvent.id.desc()).limit(20)
    )
    projects = list(session.scalars(select(Project).order_by(Project.slug)))
    return {
        "who": who,
        "users": list_users(session),
        "projects": projects,
        "slugs": {p.id: p.slug for p in projects},
        "roles": ROLES,
        "no_role": NO_ROLE,
        "recent": list(recent),
        "invites": list_invites(session, pending_only=True),
        "invite_days": DEFAULT_DAYS,
        "invite_max_days": MAX_DAYS,
        "invite_form": {},
        "error": "",
        "form_username": "",
        **extra,
    }


@pages.get("", response_class=HTMLResponse)
def users_page(request: Request, who: Principal = Admin, session: Session = DB) -> Response:
    """Every user with their site role, state and project roles, and the forms to change them."""
    return render(request, "users.html", _page(session, who))


@pages.post("", response_class=HTMLResponse)
def users_create(
    request: Request,
    username: str = Form(default=""),
    password: str = Form(default=""),
    confirm: str = Form(default=""),
    admin: str = Form(default=""),
    who: Principal = Admin,
    session: Session = DB,
) -> Response:
    """Create a user (the password twice, as ``bastion user create`` prompts for it)."""
    name = username.strip()[:150]
    problem = ""
    if len(password) > _MAX_PASSWORD:
        problem = f"password: at most {_MAX_PASSWORD} characters"
    elif password != confirm:
        problem = "the two passwords differ"
    else:
        try:
            create_user(session, name, password, admin=admin == "on", actor=who.name)
        except InputError as exc:
            problem = str(exc)
    if problem:
        context = _page(session, who, error=problem, form_username=name)
        return render(request, "users.html", context, status=422)
    return RedirectResponse("/admin/users", status_code=303)


def refused_page(request: Request, session: Session, who: Principal, problem: str, **extra: Any) -> Response:
    """The users page again, status 422, saying why a change was refused (``extra``: form values
    to keep, never a password)."""
    return render(request, "users.html", _page(session, who, error=problem, **extra), status=422)


def _refused(request: Request, session: Session, who: Principal, problem: str) -> Response:
    return refused_page(request, session, who, problem)


@pages.post("/{user_id}/disable", response_class=HTMLResponse)
def users_disable(request: Request, user_id: int, who: Principal = Admin, session: Session = DB) -> Response:
    """Disable a user: they cannot sign in, and their sessions end (not oneself)."""
    return _set_disabled(request, session, who, user_id, True)


@pages.post("/{user_id}/enable", response_class=HTMLResponse)
def users_enable(request: Request, user_id: int, who: Principal = Admin, session: Session = DB) -> Response:
    """Enable a disabled user again."""
    return _set_disabled(request, session, who, user_id, False)


def _set_disabled(
    request: Request, session: Session, who: Principal, user_id: int, disabled: bool
) -> Response:
    try:
        user = user_by_id(session, user_id)
    except InputError as exc:
        raise HTTPException(404, str(exc)) from None
    if disabled and who.user is not None and user.id == who.user.id:
        return _refused(request, session, who, "you cannot disable your own account")
    try:
        set_disabled(session, user, disabled, who.name)
    except InputError as exc:
        return _refused(request, session, who, str(exc))
    return RedirectResponse("/admin/users", status_code=303)


@pages.post("/{user_id}/role", response_class=HTMLResponse)
def users_role(
    request: Request,
    user_id: int,
    project: str = Form(default=""),
    role: str = Form(default=""),
    who: Principal = Admin,
    session: Session = DB,
) -> Response:
    """Give the user ``role`` in ``project``, or take them out of it (role ``none``)."""
    try:
        user = user_by_id(session, user_id)
    except InputError as exc:
        raise HTTPException(404, str(exc)) from None
    chosen = project_by_slug(session, project.strip()[:100])
    if role == NO_ROLE:
        remove_role(session, user, chosen, who.name)
        return RedirectResponse("/admin/users", status_code=303)
    try:
        set_role(session, user, chosen, role[:20], who.name)
    except InputError as exc:
        return _refused(request, session, who, str(exc))
    return RedirectResponse("/admin/users", status_code=303)
