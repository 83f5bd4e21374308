"""Sign-in and sign-out: the login form (public, CSRF double-submit), rate limited."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bastion.server import oidc
from bastion.server.auth import COOKIE, Principal, safe_next
from bastion.server.deps import get_settings, get_store, principal
from bastion.server.web import render
from bastion.store.accounts import authenticate, end_session, start_session
from bastion.store.models import AuditEvent

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
router.include_router(oidc.router)
Auth = Depends(principal)
LOGIN_CSRF = "bastion_login_csrf"
ERRORS = {
    "credentials": "Wrong user name or password.",
    "sso": "Single sign-on failed: the identity provider could not be reached or its answer was not valid.",
    "sso-expired": "The single sign-on expired or was started in another browser; sign in again.",
    "sso-refused": "Single sign-on refused: this account may not sign in here.",
    "sso-unknown": "No Bastion user for this account: ask an administrator to add you.",
}
"""The only messages the sign-in page shows: ``/login?error=CODE`` never echoes text."""


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/", error: str = "") -> Response:
    """The sign-in form (public)."""
    token = secrets.token_urlsafe(24)
    sso = get_settings(request).oidc
    context = {
        "who": None,
        "next": safe_next(next),
        "error": ERRORS.get(error, ""),
        "csrf": token,
        "sso": sso.name if sso is not None else None,
    }
    response = render(request, "login.html", context)
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", secure=_secure(request))
    return response


@router.post("/login")
def login(
    request: Request,
    username: str = Form(max_length=150),
    password: str = Form(max_length=1024),
    csrf_token: str = Form(default=""),
    next: str = Form(default="/"),
) -> Response:
    """Check the password (rate limited per client and per user) and start a session."""
    cookie_csrf = request.cookies.get(LOGIN_CSRF, "")
    if not cookie_csrf or not secrets.compare_digest(cookie_csrf, csrf_token):
        raise HTTPException(403, "sign-in form expired; reload the page")
    limiter = request.app.state.limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.begin(username, client)
    if wait:
        raise HTTPException(
            429, f"too many failed sign-ins; try again in {wait} s", headers={"Retry-After": str(wait)}
        )
    store = get_store(request)
    with store.write() as session:
        user = authenticate(session, username, password)
        if user is None:
            query = urlencode({"next": safe_next(next), "error": "credentials"})
            return RedirectResponse(f"/login?{query}", status_code=303)
        cookie, _ = start_session(session, user)
        session.add(AuditEvent(actor=user.username, action="user.signed_in", reason=client))
    limiter.succeeded(username, client)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE, cookie, httponly=True, samesite="lax", secure=_secure(request), max_age=12 * 3600
    )
    response.delete_cookie(LOGIN_CSRF)
    return response


@router.post("/logout")
def logout(request: Request, _who: Principal = Auth) -> Response:
    """End the session."""
    with get_store(request).write() as session:
        end_session(session, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response
