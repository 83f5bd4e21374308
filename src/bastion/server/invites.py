"""Invitations in the dashboard: a site administrator invites a person (``/admin/users/invites``)
and the person sets a password through the link (``/invite``, public).

The link is ``<server>/invite#<token>``: the token travels in the URL fragment, which browsers
never send, so it reaches no access log, proxy or Referer header. The page copies it into its
form (``/static/invite.js``; without script the person pastes it) and posts it in the body. The
token is shown once, on the page that created the invite (and in the e-mail when the server has
an SMTP channel in its integrations file); the store keeps only its SHA-256. The sign-in form's
double-submit cookie guards the public form against cross-site posts.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.integrations.config import ChannelKind, IntegrationsConfig, load_config
from bastion.integrations.notify import TIMEOUT_S, SmtpChannel, open_channel
from bastion.server.auth import COOKIE, Principal
from bastion.server.deps import DB, get_store
from bastion.server.integrations import CONFIG_ENV
from bastion.server.users import NO_ROLE, Admin, refused_page
from bastion.server.web import render
from bastion.store.accounts import start_session
from bastion.store.invites import (
    DEFAULT_DAYS,
    Invite,
    IssuedInvite,
    accept_invite,
    create_invite,
    pending_invite,
)
from bastion.store.invites import revoke_invite as store_revoke
from bastion.store.models import AuditEvent, Project

__all__ = [
    "MailOutcome",
    "integrations_config",
    "invite_link",
    "issue",
    "mail_after_commit",
    "mail_invite",
    "pages",
    "public",
]

log = logging.getLogger(__name__)
public = APIRouter(prefix="/invite", include_in_schema=False)
pages = APIRouter(prefix="/admin/users/invites", include_in_schema=False)
INVITE_CSRF = "bastion_invite_csrf"
_MAX_PASSWORD = 1024
_MAX_CODE = 100


def invite_link(base_url: str, token: str) -> str:
    """The link to send: the token in the fragment, never in the path or query."""
    return f"{base_url.rstrip('/')}/invite#{token}"


@dataclass(frozen=True)
class MailOutcome:
    """Whether the invite went out by e-mail, and a line saying so (never holding the link)."""

    sent: bool
    note: str


def integrations_config(state: Any) -> IntegrationsConfig | None:
    """The app state's integrations (a test's or an embedding application's), else the file
    ``BASTION_INTEGRATIONS`` names, else None; ConfigError when that file is not valid."""
    chosen = getattr(state, "integrations", None)
    if isinstance(chosen, IntegrationsConfig):
        return chosen
    path = os.environ.get(CONFIG_ENV, "").strip()
    return load_config(Path(path)) if path else None


def mail_invite(config: IntegrationsConfig | None, issued: IssuedInvite, link: str) -> MailOutcome:
    """E-mail ``link`` to the invite's address through the first SMTP channel of ``config``."""
    invite = issued.invite
    if invite.email is None:
        return MailOutcome(False, "no e-mail address given: hand the link over yourself")
    smtp = next((c for c in (config.channels if config else ()) if c.kind is ChannelKind.SMTP), None)
    if smtp is None:
        return MailOutcome(False, "no SMTP channel in the integrations file: hand the link over yourself")
    try:
        channel = open_channel(smtp)
    except InputError as exc:
        return MailOutcome(False, f"not e-mailed: {exc}")
    if not isinstance(channel, SmtpChannel):  # open_channel answers one for every SMTP channel
        return MailOutcome(False, f"not e-mailed: channel {smtp.name} is not SMTP")
    message = EmailMessage()
    message["Subject"] = "[Bastion] You are invited"
    message["From"] = channel.sender
    message["To"] = invite.email
    days = max(1, (invite.expires_at - invite.created_at).days)
    message.set_content(
        f"{invite.created_by} invited you to Bastion as {invite.username}.\n\n"
        f"Open this link within {days} days to choose your password (it works once):\n{link}\n"
    )
    try:
        with smtplib.SMTP(channel.host, channel.port, timeout=TIMEOUT_S) as client:
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("invite %s: e-mail through %s failed: %s", invite.id, smtp.name, type(exc).__name__)
        return MailOutcome(False, f"not e-mailed: SMTP {type(exc).__name__}; hand the link over yourself")
    return MailOutcome(True, f"e-mailed to {invite.email}")


def issue(
    request: Request, session: Session, who: Principal, fields: dict[str, Any]
) -> tuple[IssuedInvite, str]:
    """Create the invite from ``fields`` (InputError when refused) and its link; shared by the page
    and the JSON API. Mail it with :func:`mail_after_commit` once the session has committed."""
    issued = create_invite(
        session,
        fields["username"],
        who.name,
        email=fields.get("email"),
        admin=bool(fields.get("admin")),
        roles=fields.get("roles") or {},
        days=fields.get("days", DEFAULT_DAYS),
    )
    return issued, invite_link(str(request.base_url), issued.token)


def mail_after_commit(request: Request, issued: IssuedInvite, link: str, send: bool) -> MailOutcome | None:
    """The mail outcome when ``send`` (None otherwise). Called after the invite's transaction
    committed: a slow or dead SMTP server never holds the database's write lock, and no one is
    mailed a link whose invite was rolled back."""
    if not send:
        return None
    try:
        config = integrations_config(request.app.state)
    except InputError as exc:
        return MailOutcome(False, f"not e-mailed: {exc}")
    return mail_invite(config, issued, link)


@pages.post("", response_class=HTMLResponse)
async def invite_create(request: Request, who: Principal = Admin) -> Response:
    """Invite someone: the link is shown once, on the page this answers (and e-mailed if asked)."""
    form = await request.form()

    def text(name: str, limit: int) -> str:
        value = form.get(name, "")
        return value.strip()[:limit] if isinstance(value, str) else ""

    with get_store(request).write() as session:
        slugs = list(session.scalars(select(Project.slug).order_by(Project.slug)))
        roles = {s: text(f"role_{s}", 20) for s in slugs if text(f"role_{s}", 20) not in ("", NO_ROLE)}
        days = text("days", 3)
        fields: dict[str, Any] = {
            "username": text("username", 150),
            "email": text("email", 320),
            "admin": text("admin", 3) == "on",
            "roles": roles,
            "days": int(days) if days.isdigit() else DEFAULT_DAYS,
        }
        try:
            issued, link = issue(request, session, who, fields)
        except InputError as exc:
            return refused_page(request, session, who, str(exc), invite_form=fields)
    outcome = mail_after_commit(request, issued, link, text("send", 3) == "on")
    context = {"who": who, "invite": issued.invite, "link": link, "mail": outcome}
    return render(request, "invite_created.html", context)


@pages.post("/{invite_id}/revoke", response_class=HTMLResponse)
def invite_revoke(invite_id: int, who: Principal = Admin, session: Session = DB) -> Response:
    """Revoke a pending invite: its link stops working at once."""
    try:
        store_revoke(session, invite_id, who.name)
    except InputError as exc:
        raise HTTPException(404, str(exc)) from None
    return RedirectResponse("/admin/users", status_code=303)


def _form_page(request: Request, template: str, status: int = 200, **extra: Any) -> Response:
    token = request.cookies.get(INVITE_CSRF) or secrets.token_urlsafe(24)
    context = {"who": None, "csrf": token, "error": "", **extra}
    response = render(request, template, context, status=status)
    response.set_cookie(
        INVITE_CSRF,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/invite",
    )
    return response


@public.get("", response_class=HTMLResponse)
def invite_page(request: Request) -> Response:
    """The first step: the invite code (filled in from the link by the page's script)."""
    return _form_page(request, "invite.html")


@public.post("", response_class=HTMLResponse)
def invite_submit(
    request: Request,
    code: str = Form(default="", max_length=_MAX_CODE),
    password: str = Form(default="", max_length=_MAX_PASSWORD),
    confirm: str = Form(default="", max_length=_MAX_PASSWORD),
    step: str = Form(default="open", max_length=10),
    csrf_token: str = Form(default="", max_length=100),
) -> Response:
    """``open``: check the code and ask for a password; ``accept``: create the account and sign in."""
    cookie_csrf = request.cookies.get(INVITE_CSRF, "")
    if not cookie_csrf or not secrets.compare_digest(cookie_csrf, csrf_token):
        raise HTTPException(403, "invite form expired; open the link again")
    store = get_store(request)
    with store.read() as session:
        try:
            invite: Invite = pending_invite(session, code)
        except InputError as exc:
            return _form_page(request, "invite.html", 422, error=str(exc))
        username = invite.username
    if step != "accept":
        return _form_page(request, "invite_accept.html", code=code.strip(), username=username)
    problem = "the two passwords differ" if password != confirm else ""
    cookie = ""
    if not problem:
        try:
            with store.write() as session:
                user = accept_invite(session, code, password)
                cookie, _ = start_session(session, user)
                client = request.client.host if request.client else "unknown"
                session.add(
                    AuditEvent(actor=user.username, action="user.signed_in", reason=f"invite {client}")
                )
        except InputError as exc:
            problem = str(exc)
    if problem:
        return _form_page(
            request, "invite_accept.html", 422, code=code.strip(), username=username, error=problem
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE, cookie, httponly=True, samesite="lax", secure=request.url.scheme == "https", max_age=12 * 3600
    )
    response.delete_cookie(INVITE_CSRF, path="/invite")
    return response
