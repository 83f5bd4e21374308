"""Users, roles, API tokens and dashboard sessions.

Passwords are hashed with argon2id (argon2-cffi). API tokens and session ids are 256-bit
random values: only their SHA-256 is stored, compared in constant time, and a token is
shown once, when created. Tokens are scoped to one project and a set of scopes, may
expire, and can be revoked.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.store.models import ROLES, ApiToken, AuditEvent, Membership, Project, User, WebSession, utcnow

__all__ = [
    "ID_LEAD",
    "SCOPES",
    "IssuedToken",
    "authenticate",
    "check_username",
    "create_project",
    "create_token",
    "create_user",
    "end_session",
    "project_role",
    "resolve_session",
    "resolve_token",
    "revoke_token",
    "set_role",
    "start_session",
    "use_password_cost",
]

SCOPES = ("scan:upload", "findings:read", "findings:triage")
ID_LEAD = "bst"
SESSION_LIFETIME = timedelta(hours=12)
PRODUCTION_COST = profiles.RFC_9106_LOW_MEMORY
"""argon2id at RFC 9106's second recommended setting: 3 passes over 64 MiB, 4 lanes."""


class _Hashing:
    """The password hasher in use, and a dummy hash that keeps unknown-user timing even."""

    hasher = PasswordHasher.from_parameters(PRODUCTION_COST)
    dummy: str | None = None  # made at first use: every CLI process imports this module

    @classmethod
    def dummy_hash(cls) -> str:
        if cls.dummy is None:
            cls.dummy = cls.hasher.hash("not a real password, used to keep timing even")
        return cls.dummy


def use_password_cost(parameters: Parameters) -> None:
    """Hash and verify passwords at ``parameters`` from now on, in this process.

    Only the test suite lowers the cost (argon2's CHEAPEST profile: a server test that logs in
    would otherwise spend most of its time hashing); production always runs PRODUCTION_COST.
    """
    _Hashing.hasher = PasswordHasher.from_parameters(parameters)
    _Hashing.dummy = None


_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,149}$")
MIN_PASSWORD = 10


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_username(username: str) -> None:
    """InputError unless ``username`` is a valid user name (letters, digits, ``. _ @ -``; 1-150)."""
    if not _USERNAME.match(username):
        raise InputError(f"username {username!r}: letters, digits and . _ @ - only (1-150)")


def create_user(
    session: Session, username: str, password: str, *, admin: bool = False, actor: str = "system"
) -> User:
    """Add a user; the password is argon2-hashed. Raises InputError on a bad or taken name, or a
    password under :data:`MIN_PASSWORD` characters (the message never holds the password).
    ``actor`` is who the audit event names (the CLI: ``system``)."""
    check_username(username)
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password: at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InputError(f"username {username!r} is taken")
    user = User(username=username, password_hash=_Hashing.hasher.hash(password), is_admin=admin)
    session.add(user)
    session.flush()
    session.add(AuditEvent(actor=actor[:200], action="user.created", reason=f"{username} admin={admin}"))
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password matches, else None; time is spent either way."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.disabled:
        with contextlib.suppress(VerificationError):
            _Hashing.hasher.verify(_Hashing.dummy_hash(), password)
        return None
    try:
        _Hashing.hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if _Hashing.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _Hashing.hasher.hash(password)
    return user


def create_project(session: Session, slug: str, name: str, actor: str) -> Project:
    """Add a project; the slug is lower-case letters, digits, ``.``, ``_`` and ``-``."""
    if not _SLUG.match(slug):
        raise InputError(f"project {slug!r}: lower-case letters, digits, . _ - only (1-100)")
    if session.scalar(select(Project.id).where(Project.slug == slug)) is not None:
        raise InputError(f"project {slug!r} exists")
    project = Project(slug=slug, name=name.strip()[:200] or slug)
    session.add(project)
    session.flush()
    session.add(AuditEvent(actor=actor, action="project.created", project_id=project.id, reason=slug))
    return project


def set_role(session: Session, user: User, project: Project, role: str, actor: str) -> Membership:
    """Give ``user`` ``role`` (viewer, maintainer, admin) in ``project``."""
    if role not in ROLES:
        raise InputError(f"role {role!r}: choose from {', '.join(ROLES)}")
    membership = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.project_id == project.id)
    )
    if membership is None:
        membership = Membership(user_id=user.id, project_id=project.id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.add(
        AuditEvent(actor=actor, action="member.role", project_id=project.id, reason=f"{user.username}={role}")
    )
    session.flush()
    return membership


def project_role(session: Session, user: User, project_id: int) -> str | None:
    """The user's role in the project (``admin`` for site admins), or None."""
    if user.is_admin:
        return "admin"
    return session.scalar(
        select(Membership.role).where(Membership.user_id == user.id, Membership.project_id == project_id)
    )


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created token: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def create_token(
    session: Session,
    project: Project,
    name: str,
    actor: str,
    scopes: tuple[str, ...] = ("scan:upload", "findings:read"),
    expires_in_days: int | None = 90,
    now: datetime | None = None,
) -> IssuedToken:
    """Issue a project token; the returned secret is the only copy."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InputError(f"token scopes {', '.join(unknown) or '(none)'}: choose from {', '.join(SCOPES)}")
    now = now or utcnow()
    prefix = secrets.token_hex(6)
    secret_part = secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip()[:100] or "token",
        prefix=prefix,
        secret_hash=_sha256(secret_part),
        project_id=project.id,
        scopes=list(scopes),
        created_by=actor[:150],
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    session.add(
        AuditEvent(
            actor=actor, action="token.created", project_id=project.id, reason=f"{token.name} ({prefix})"
        )
    )
    return IssuedToken(token, f"{ID_LEAD}_{prefix}_{secret_part}")


def resolve_token(session: Session, presented: str, now: datetime | None = None) -> ApiToken | None:
    """The live token matching ``presented``, or None (unknown, wrong, expired or revoked).

    Only reads: the caller stamps ``last_used_at`` in a write session of its own (the server's
    :func:`bastion.server.auth.identify`). Stamping the object here was lost when the read
    session expunged it, and it hid the stale stamp from the caller, which then skipped its own
    write: "last used" stayed empty."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != ID_LEAD:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == parts[1]))
    if token is None or not hmac.compare_digest(token.secret_hash, _sha256(parts[2])):
        return None
    now = now or utcnow()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    return token


def revoke_token(session: Session, token: ApiToken, actor: str) -> None:
    """Revoke ``token`` now; it stops working at once."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(
            AuditEvent(
                actor=actor,
                action="token.revoked",
                project_id=token.project_id,
                reason=f"{token.name} ({token.prefix})",
            )
        )


def start_session(session: Session, user: User, now: datetime | None = None) -> tuple[str, WebSession]:
    """Open a dashboard session (and drop expired ones); returns the cookie value, of which
    only a hash is stored."""
    now = now or utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    cookie = secrets.token_urlsafe(32)
    row = WebSession(
        id_hash=_sha256(cookie),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    return cookie, row


def resolve_session(session: Session, cookie: str, now: datetime | None = None) -> WebSession | None:
    """The live session for a cookie value, or None."""
    if not cookie:
        return None
    row = session.scalar(select(WebSession).where(WebSession.id_hash == _sha256(cookie)))
    if row is None or row.expires_at <= (now or utcnow()) or row.user.disabled:
        return None
    return row


def end_session(session: Session, cookie: str) -> None:
    """Sign out: delete the session row."""
    row = session.scalar(select(WebSession).where(WebSession.id_hash == _sha256(cookie)))
    if row is not None:
        session.delete(row)
