"""Administration of dashboard users: the list, disabling and enabling, and removing a role.

Creating a user and giving a role are :func:`bastion.store.accounts.create_user` and
:func:`bastion.store.accounts.set_role`, the same functions ``bastion user create`` and the
project page use. Every change here is an audit event naming who made it; no password is read,
written or recorded here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.store.models import AuditEvent, Membership, Project, User, WebSession

__all__ = ["UserRow", "list_users", "remove_role", "set_disabled", "user_by_id"]


@dataclass(frozen=True)
class UserRow:
    """One user as the administration page shows them."""

    id: int
    username: str
    is_admin: bool
    """Site administrator: every project, every role."""
    disabled: bool
    created_at: datetime
    roles: dict[str, str] = field(default_factory=dict)
    """Role by project slug."""


def list_users(session: Session) -> list[UserRow]:
    """Every user, by name, with their role in each project they are a member of."""
    roles: dict[int, dict[str, str]] = {}
    for user_id, slug, role in session.execute(
        select(Membership.user_id, Project.slug, Membership.role)
        .join(Project, Project.id == Membership.project_id)
        .order_by(Project.slug)
    ):
        roles.setdefault(user_id, {})[slug] = role
    return [
        UserRow(user.id, user.username, user.is_admin, user.disabled, user.created_at, roles.get(user.id, {}))
        for user in session.scalars(select(User).order_by(User.username))
    ]


def user_by_id(session: Session, user_id: int) -> User:
    """The user with that id; InputError when there is none."""
    user = session.get(User, user_id)
    if user is None:
        raise InputError(f"no user with id {user_id}")
    return user


def set_disabled(session: Session, user: User, disabled: bool, actor: str) -> bool:
    """Disable (or enable again) ``user``; returns whether anything changed.

    A disabled user cannot sign in, and their open sessions end now. The last enabled site
    administrator cannot be disabled (nobody could enable anyone again)."""
    if user.disabled == disabled:
        return False
    if disabled and user.is_admin:
        others = session.scalar(
            select(func.count(User.id)).where(
                User.is_admin.is_(True), User.disabled.is_(False), User.id != user.id
            )
        )
        if not others:
            raise InputError(f"{user.username} is the last enabled site administrator")
    user.disabled = disabled
    if disabled:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    action = "user.disabled" if disabled else "user.enabled"
    session.add(AuditEvent(actor=actor[:200], action=action, reason=user.username))
    session.flush()
    return True


def remove_role(session: Session, user: User, project: Project, actor: str) -> bool:
    """Take ``user`` out of ``project``; returns whether they were a member."""
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.project_id == project.id)
    )
    if membership is None:
        return False
    session.delete(membership)
    session.add(
        AuditEvent(
            actor=actor[:200],
            action="member.removed",
            project_id=project.id,
            reason=f"{user.username} (was {membership.role})",
        )
    )
    session.flush()
    return True
