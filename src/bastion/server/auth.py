"""Who is calling: a user with a dashboard session, or a project API token.

Every route but ``/health``, the login page and static assets depends on
:func:`principal`. Cookie-authenticated requests that change state must carry the
session's CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form field).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from fastapi import HTTPException, Request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bastion.store.accounts import project_role, resolve_session, resolve_token
from bastion.store.db import Store
from bastion.store.models import ApiToken, User, utcnow

__all__ = [
    "COOKIE",
    "Principal",
    "check_csrf",
    "identify",
    "require",
    "safe_next",
]

COOKIE = "bastion_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_ROLE_RANK = {"viewer": 0, "maintainer": 1, "admin": 2}
_NEEDS = {
    "read": ("viewer", "findings:read"),
    "upload": ("maintainer", "scan:upload"),
    "triage": ("maintainer", "findings:triage"),
    "manage": ("maintainer", None),
    "admin": ("admin", None),
}


class NotSignedIn(HTTPException):
    """401, remembered so dashboard pages can redirect to the login page instead."""

    def __init__(self) -> None:
        super().__init__(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})


@dataclass
class Principal:
    """The authenticated caller."""

    name: str
    user: User | None = None
    token: ApiToken | None = None
    csrf_token: str | None = None

    @property
    def is_admin(self) -> bool:
        """Site administrator."""
        return self.user is not None and self.user.is_admin

    def role(self, session: Session, project_id: int) -> str | None:
        """The caller's role in a project (tokens: None outside their own project)."""
        if self.user is not None:
            return project_role(session, self.user, project_id)
        return "token" if self.token is not None and self.token.project_id == project_id else None


def require(principal: Principal, session: Session, project_id: int, need: str) -> None:
    """403 unless the caller may do ``need`` (read, upload, triage, manage, admin) in the project."""
    role, scope = _NEEDS[need]
    if principal.token is not None:
        if principal.token.project_id != project_id:
            raise HTTPException(403, "this token belongs to another project")
        if scope is None or scope not in principal.token.scopes:
            raise HTTPException(403, f"this token lacks the scope needed to {need}")
        return
    current = principal.role(session, project_id)
    if current is None or _ROLE_RANK[current] < _ROLE_RANK[role]:
        raise HTTPException(403, f"{role} role needed")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-bastion-token") or None


def identify(store: Store, request: Request) -> Principal:
    """Resolve the caller from its token or session cookie, or raise 401 (no CSRF check)."""
    presented = _bearer(request)
    if presented is not None:
        with store.read() as session:
            token = resolve_token(session, presented)
            if token is None:
                raise NotSignedIn()
            session.expunge(token)
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            # Best effort: a busy database must not refuse the request over a "last used" time.
            with contextlib.suppress(OperationalError), store.write() as session:
                live = session.get(ApiToken, token.id)
                if live is not None:
                    live.last_used_at = now
        return Principal(name=f"token:{token.name} ({token.prefix})", token=token)
    with store.read() as session:
        web = resolve_session(session, request.cookies.get(COOKIE, ""))
        if web is None:
            raise NotSignedIn()
        user = web.user
        session.expunge_all()
    return Principal(name=user.username, user=user, csrf_token=web.csrf_token)


def check_csrf(principal: Principal, request: Request, csrf_value: str | None) -> None:
    """403 when a cookie session changes state without its CSRF token (header or form field)."""
    if principal.user is None or request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token") or csrf_value
    if not sent or sent != principal.csrf_token:
        raise HTTPException(403, "CSRF token missing or wrong")


def safe_next(target: str) -> str:
    """``target`` when it is a path of this site (where to go after signing in), else ``/``."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"
