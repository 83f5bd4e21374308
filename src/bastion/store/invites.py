"""Invitations: a site administrator invites a person, who sets a password through a link.

An :class:`Invite` names the account to create (``username``, and optionally the ``email`` the
link was sent to), whether it is a site administrator, and its role in each project. The link
carries a 256-bit random token; only its SHA-256 is stored, so the token is shown once (to the
administrator, or in the e-mail) and never kept. An invite is used once, expires (seven days
unless told otherwise) and can be revoked; creating, accepting and revoking are audit events
that name the invite by id, never by token. A first single sign-on as the invited name or e-mail
address uses the invite too (:func:`accept_by_sign_in`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bastion.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import CursorResult
from bastion.store.accounts import MIN_PASSWORD, check_username, create_user, set_role
from bastion.store.models import ROLES, AuditEvent, Base, Project, User, utcnow

__all__ = [
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "Invite",
    "InviteRow",
    "IssuedInvite",
    "accept_by_sign_in",
    "accept_invite",
    "create_invite",
    "invite_state",
    "list_invites",
    "pending_invite",
    "revoke_invite",
]

DEFAULT_DAYS = 7
"""How long an invite link works unless the administrator says otherwise."""
MAX_DAYS = 90
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$")
_EMAIL_LEN = 320
_WHY = {
    "used": "this invite was used already",
    "revoked": "this invite was revoked",
    "expired": "this invite has expired",
}


class Invite(Base):
    """One invitation to join (pending, used, expired or revoked)."""

    __tablename__ = "invites"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_invites_token_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the link's token: the token itself is shown once and never stored."""
    username: Mapped[str] = mapped_column(String(150), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    roles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """Role by project slug, given when the invite is accepted."""
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """The account the invite created, once used."""
    revoked_at: Mapped[datetime | None] = mapped_column()


@dataclass(frozen=True)
class IssuedInvite:
    """A freshly created invite: ``token`` is the only copy, shown once, never stored."""

    invite: Invite
    token: str = field(repr=False)


@dataclass(frozen=True)
class InviteRow:
    """One invite as a list shows it (never its token)."""

    id: int
    username: str
    email: str | None
    is_admin: bool
    roles: dict[str, str]
    created_by: str
    created_at: datetime
    expires_at: datetime
    state: str
    """``pending``, ``used``, ``revoked`` or ``expired``."""

    def to_dict(self) -> dict[str, object]:
        """The row as JSON."""
        return {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "is_admin": self.is_admin,
            "roles": dict(self.roles),
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "state": self.state,
        }


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite_state(invite: Invite, now: datetime | None = None) -> str:
    """``used``, ``revoked``, ``expired`` or ``pending``."""
    if invite.used_at is not None:
        return "used"
    if invite.revoked_at is not None:
        return "revoked"
    return "expired" if invite.expires_at <= (now or utcnow()) else "pending"


def _check_roles(session: Session, roles: Mapping[str, str]) -> dict[str, str]:
    known = set(session.scalars(select(Project.slug).where(Project.slug.in_(list(roles)))))
    checked: dict[str, str] = {}
    for slug, role in roles.items():
        if slug not in known:
            raise InputError(f"project {slug!r} does not exist")
        if role not in ROLES:
            raise InputError(f"role {role!r}: choose from {', '.join(ROLES)}")
        checked[slug] = role
    return checked


def create_invite(
    session: Session,
    username: str,
    actor: str,
    *,
    email: str | None = None,
    admin: bool = False,
    roles: Mapping[str, str] | None = None,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
) -> IssuedInvite:
    """Invite ``username`` (or, when empty, the ``email`` as user name) with ``roles`` by project
    slug; InputError on a bad name, e-mail, project, role or lifetime, a name already taken or one
    with a pending invite. The returned token is the only copy."""
    email = (email or "").strip() or None
    name = username.strip() or (email or "")
    if not name:
        raise InputError("invite: give a user name or an e-mail address")
    check_username(name)
    if email is not None and (len(email) > _EMAIL_LEN or not _EMAIL.match(email)):
        raise InputError(f"e-mail {email[:80]!r} is not an address")
    if not 1 <= days <= MAX_DAYS:
        raise InputError(f"invite lifetime {days} days: choose 1 to {MAX_DAYS}")
    checked = _check_roles(session, roles or {})
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise InputError(f"username {name!r} is taken")
    now = now or utcnow()
    for other in session.scalars(select(Invite).where(Invite.username == name)):
        if invite_state(other, now) == "pending":
            raise InputError(f"{name!r} has a pending invite (id {other.id}); revoke it first")
    token = secrets.token_urlsafe(32)
    invite = Invite(
        token_hash=_sha256(token),
        username=name,
        email=email,
        is_admin=admin,
        roles=checked,
        created_by=actor[:150],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(invite)
    session.flush()
    granted = ", ".join(f"{slug}={role}" for slug, role in sorted(checked.items())) or "no project"
    session.add(
        AuditEvent(
            actor=actor[:200],
            action="invite.created",
            reason=f"invite {invite.id} for {name} admin={admin} ({granted}), {days} days",
        )
    )
    session.flush()
    return IssuedInvite(invite, token)


def pending_invite(session: Session, token: str, now: datetime | None = None) -> Invite:
    """The pending invite of ``token``; InputError saying why when it cannot be used."""
    invite = session.scalar(select(Invite).where(Invite.token_hash == _sha256(token.strip())))
    if invite is None:
        raise InputError("this invite code is not valid")
    state = invite_state(invite, now)
    if state != "pending":
        raise InputError(f"{_WHY[state]}: ask an administrator for a new one")
    return invite


def accept_invite(session: Session, token: str, password: str, now: datetime | None = None) -> User:
    """Use the invite: create its user with ``password`` (the rules of ``bastion user create``)
    and its roles, and mark it used; InputError when the invite or the password is refused.

    The invite is claimed with one conditional UPDATE, so of two acceptances racing only one
    creates the account."""
    now = now or utcnow()
    invite = pending_invite(session, token, now)
    # Everything that can refuse is checked before the claim: a refusal changes nothing.
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password: at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.username == invite.username)) is not None:
        raise InputError(f"username {invite.username!r} is taken: ask an administrator for a new invite")
    return _claim(session, invite, invite.username, password, now)


def _claim(session: Session, invite: Invite, username: str, password: str, now: datetime) -> User:
    """Mark ``invite`` used with one conditional UPDATE (of two racing, one wins), then create
    ``username`` with its admin flag and roles."""
    claimed = session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None), Invite.revoked_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", claimed).rowcount != 1:
        raise InputError(f"{_WHY['used']}: ask an administrator for a new one")
    actor = f"invite {invite.id} from {invite.created_by}"
    user = create_user(session, username, password, admin=invite.is_admin, actor=actor)
    projects = {
        p.slug: p for p in session.scalars(select(Project).where(Project.slug.in_(list(invite.roles))))
    }
    for slug, role in sorted(invite.roles.items()):
        if slug in projects:
            set_role(session, user, projects[slug], role, actor[:200])
    session.refresh(invite)
    invite.user_id = user.id
    session.add(AuditEvent(actor=user.username, action="invite.accepted", reason=f"invite {invite.id}"))
    session.flush()
    return user


def accept_by_sign_in(session: Session, username: str, now: datetime | None = None) -> User | None:
    """A first single sign-on as ``username`` uses the pending invite made out to that name or
    e-mail address (the provider vouched for it): the account gets the invite's roles and no
    password anyone knows. None when no pending invite names it."""
    now = now or utcnow()
    key = username.strip().lower()
    for invite in session.scalars(
        select(Invite)
        .where(
            or_(func.lower(Invite.username) == key, func.lower(Invite.email) == key),
            Invite.used_at.is_(None),
            Invite.revoked_at.is_(None),
        )
        .order_by(Invite.created_at.desc())
    ):
        if invite_state(invite, now) == "pending":
            return _claim(session, invite, username, secrets.token_urlsafe(32), now)
    return None


def revoke_invite(session: Session, invite_id: int, actor: str, now: datetime | None = None) -> bool:
    """Revoke a pending invite; returns whether it was pending (InputError when none has that id)."""
    invite = session.get(Invite, invite_id)
    if invite is None:
        raise InputError(f"no invite with id {invite_id}")
    now = now or utcnow()
    if invite_state(invite, now) != "pending":
        return False
    invite.revoked_at = now
    session.add(
        AuditEvent(
            actor=actor[:200], action="invite.revoked", reason=f"invite {invite.id} for {invite.username}"
        )
    )
    session.flush()
    return True


def list_invites(
    session: Session, *, pending_only: bool = False, now: datetime | None = None
) -> list[InviteRow]:
    """Invites, newest first, with their state (``pending_only``: those that still work)."""
    now = now or utcnow()
    rows = [
        InviteRow(
            invite.id,
            invite.username,
            invite.email,
            invite.is_admin,
            dict(invite.roles),
            invite.created_by,
            invite.created_at,
            invite.expires_at,
            invite_state(invite, now),
        )
        for invite in session.scalars(select(Invite).order_by(Invite.id.desc()))
    ]
    return [r for r in rows if r.state == "pending"] if pending_only else rows
