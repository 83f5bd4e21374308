"""The users API (JSON, site administrators only): users with their roles, disabling and
enabling, setting and removing a project role, and creating, listing and revoking invites.

Project API tokens never reach it (they belong to one project; a site administrator acts
across projects): a signed-in administrator's session calls it, with the session's CSRF token
in ``X-CSRF-Token`` on every change, as the dashboard's own requests do. The work is the
store's, as for the ``/admin/users`` page and ``bastion users``; every change is an audit event
naming the administrator. An invite's token is in the answer that creates it and nowhere else.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.server.api import project_by_slug
from bastion.server.auth import Principal
from bastion.server.deps import DB, get_store
from bastion.server.invites import issue, mail_after_commit
from bastion.server.users import Admin
from bastion.store.accounts import set_role
from bastion.store.invites import DEFAULT_DAYS, MAX_DAYS, list_invites, revoke_invite
from bastion.store.models import User
from bastion.store.users import UserRow, list_users, remove_role, set_disabled, user_by_id

__all__ = ["InviteIn", "RoleIn", "api"]

api = APIRouter(prefix="/api/v1", tags=["users"])


class RoleIn(BaseModel):
    """The role to give in a project."""

    model_config = ConfigDict(extra="forbid")
    role: str = Field(max_length=20)


class InviteIn(BaseModel):
    """An invitation: a user name, an e-mail address (the user name when none is given), or both."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(default="", max_length=150)
    email: str = Field(default="", max_length=320)
    admin: bool = False
    roles: dict[str, str] = Field(default_factory=dict, max_length=1000)
    """Role by project slug."""
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS)
    send_email: bool = False
    """E-mail the link through the integrations file's SMTP channel."""


def _row_json(row: UserRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "is_admin": row.is_admin,
        "disabled": row.disabled,
        "created_at": row.created_at.isoformat(),
        "roles": dict(row.roles),
    }


def _user_json(session: Session, user: User) -> dict[str, Any]:
    return next(_row_json(r) for r in list_users(session) if r.id == user.id)


def _user(session: Session, user_id: int) -> User:
    try:
        return user_by_id(session, user_id)
    except InputError as exc:
        raise HTTPException(404, str(exc)) from None


@api.get("/users")
def users(_who: Principal = Admin, session: Session = DB) -> dict[str, Any]:
    """Every user, by name, with their site role, state and role by project slug."""
    return {"users": [_row_json(r) for r in list_users(session)]}


def _disable(session: Session, who: Principal, user_id: int, disabled: bool) -> dict[str, Any]:
    user = _user(session, user_id)
    if disabled and who.user is not None and user.id == who.user.id:
        raise HTTPException(409, "you cannot disable your own account")
    try:
        changed = set_disabled(session, user, disabled, who.name)
    except InputError as exc:
        raise HTTPException(409, str(exc)) from None
    return {"user": _user_json(session, user), "changed": changed}


@api.post("/users/{user_id}/disable")
def disable(user_id: int, who: Principal = Admin, session: Session = DB) -> dict[str, Any]:
    """Disable a user: no sign-in, sessions ended (not oneself, not the last administrator)."""
    return _disable(session, who, user_id, True)


@api.post("/users/{user_id}/enable")
def enable(user_id: int, who: Principal = Admin, session: Session = DB) -> dict[str, Any]:
    """Enable a disabled user again."""
    return _disable(session, who, user_id, False)


@api.put("/users/{user_id}/roles/{slug}")
def put_role(
    user_id: int, slug: str, body: RoleIn, who: Principal = Admin, session: Session = DB
) -> dict[str, Any]:
    """Give the user ``role`` (viewer, maintainer, admin) in the project."""
    user = _user(session, user_id)
    project = project_by_slug(session, slug)
    try:
        set_role(session, user, project, body.role, who.name)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"user": _user_json(session, user)}


@api.delete("/users/{user_id}/roles/{slug}")
def delete_role(user_id: int, slug: str, who: Principal = Admin, session: Session = DB) -> dict[str, Any]:
    """Take the user out of the project."""
    user = _user(session, user_id)
    changed = remove_role(session, user, project_by_slug(session, slug), who.name)
    return {"user": _user_json(session, user), "changed": changed}


@api.get("/invites")
def invites(state: str = "", _who: Principal = Admin, session: Session = DB) -> dict[str, Any]:
    """Invites, newest first, with their state (``?state=pending`` for those that still work)."""
    if state not in ("", "pending"):
        raise HTTPException(422, "state: only 'pending' may be asked for")
    rows = list_invites(session, pending_only=state == "pending")
    return {"invites": [r.to_dict() for r in rows]}


@api.post("/invites", status_code=201)
def invite(request: Request, body: InviteIn, who: Principal = Admin) -> dict[str, Any]:
    """Create an invite; the answer holds its token and link, shown this once. The mail (when asked)
    goes out after the invite is committed."""
    fields = {
        "username": body.username,
        "email": body.email,
        "admin": body.admin,
        "roles": body.roles,
        "days": body.days,
    }
    with get_store(request).write() as session:
        try:
            issued, link = issue(request, session, who, fields)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        session.flush()
        row = next(r for r in list_invites(session) if r.id == issued.invite.id)
    outcome = mail_after_commit(request, issued, link, body.send_email)
    answer: dict[str, Any] = {"invite": row.to_dict(), "token": issued.token, "link": link}
    if outcome is not None:
        answer["email"] = {"sent": outcome.sent, "note": outcome.note}
    return answer


@api.post("/invites/{invite_id}/revoke")
def revoke(invite_id: int, who: Principal = Admin, session: Session = DB) -> dict[str, Any]:
    """Revoke a pending invite (its link stops working); ``changed`` is false when it was not pending."""
    try:
        changed = revoke_invite(session, invite_id, who.name)
    except InputError as exc:
        raise HTTPException(404, str(exc)) from None
    row = next(r for r in list_invites(session) if r.id == invite_id)
    return {"invite": row.to_dict(), "changed": changed}
