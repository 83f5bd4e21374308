"""Single sign-on with OpenID Connect: the authorization code flow with PKCE.

``/login/oidc`` sends the browser to the provider with a fresh ``state``, ``nonce`` and PKCE
verifier, kept in a short-lived HttpOnly cookie scoped to these two paths; ``/login/oidc/callback``
checks the state against that cookie (a forged or replayed callback is refused), exchanges the
code (client secret and verifier) and accepts the ID token only when its signature verifies with
the provider's published keys and its issuer, audience, expiry and nonce are right. The user name
is one claim of the token (``email`` by default, refused when the provider says it is not
verified); a first sign-in uses a pending invite made out to that name or address (its roles),
else creates the user without a project role (an administrator grants them) unless
``create_users`` is off. A disabled user stays out. Tokens are never logged or stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from bastion.errors import InputError
from bastion.server.auth import COOKIE, safe_next
from bastion.server.deps import get_settings, get_store
from bastion.server.settings import OidcSettings
from bastion.store.accounts import create_user, start_session
from bastion.store.invites import accept_by_sign_in
from bastion.store.models import AuditEvent, User

__all__ = ["CALLBACK_PATH", "START_PATH", "OidcRefused", "router"]

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
START_PATH = "/login/oidc"
CALLBACK_PATH = "/login/oidc/callback"
PENDING_COOKIE = "bastion_oidc"
PENDING_MAX_AGE_S = 600
PROVIDER_TTL_S = 3600.0
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
"""Asymmetric signatures only: an ID token signed with the client secret (HS256) is refused."""


class OidcRefused(Exception):
    """The sign-in is refused; ``code`` picks the message the sign-in page shows."""

    def __init__(self, code: str, why: str) -> None:
        super().__init__(why)
        self.code = code


@dataclass
class _Provider:
    """What the provider publishes: its metadata and signing keys, and when they were read."""

    metadata: dict[str, Any]
    keys: KeySet
    fetched: float


def _get_json(url: str) -> dict[str, Any]:
    response = httpx.get(url, timeout=10.0, follow_redirects=False)
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError(f"{url}: not a JSON object")
    return data


def _provider(request: Request, oidc: OidcSettings, *, refresh: bool = False) -> _Provider:
    """The provider's metadata and keys, read at most once an hour (again at once when a token
    names a key that is not among them: the provider rotated its keys)."""
    cached: _Provider | None = getattr(request.app.state, "oidc_provider", None)
    if cached is not None and not refresh and time.monotonic() - cached.fetched < PROVIDER_TTL_S:
        return cached
    try:
        metadata = _get_json(oidc.issuer.rstrip("/") + "/.well-known/openid-configuration")
        if metadata.get("issuer") != oidc.issuer:
            raise ValueError(f"discovery names issuer {metadata.get('issuer')!r}, not {oidc.issuer!r}")
        keys = KeySet.import_key_set(_get_json(str(metadata["jwks_uri"])))  # type: ignore[arg-type]
    except (httpx.HTTPError, ValueError, KeyError, JoseError) as exc:
        raise OidcRefused("sso", f"provider {oidc.issuer}: {type(exc).__name__}: {exc}") from None
    provider = _Provider(metadata, keys, time.monotonic())
    request.app.state.oidc_provider = provider
    return provider


def _redirect_uri(request: Request) -> str:
    return str(request.url_for("oidc_callback"))


def _s256(verifier: str) -> str:
    """The PKCE challenge of ``verifier`` (RFC 7636 section 4.2: BASE64URL(SHA256(verifier)))."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _authorization_url(request: Request, oidc: OidcSettings, endpoint: str, pending: dict[str, str]) -> str:
    query = {
        "response_type": "code",
        "client_id": oidc.client_id,
        "redirect_uri": _redirect_uri(request),
        "scope": "openid email profile",
        "state": pending["state"],
        "nonce": pending["nonce"],
        "code_challenge": _s256(pending["verifier"]),
        "code_challenge_method": "S256",
    }
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"


def _exchange(
    request: Request, oidc: OidcSettings, endpoint: str, code: str, verifier: str
) -> dict[str, Any]:
    """The token endpoint's answer to the code (client_secret_basic, RFC 6749 section 2.3.1)."""
    auth = httpx.BasicAuth(quote(oidc.client_id, safe=""), quote(oidc.client_secret, safe=""))
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": _redirect_uri(request),
        "code_verifier": verifier,
    }
    try:
        response = httpx.post(endpoint, data=form, auth=auth, timeout=10.0, follow_redirects=False)
        response.raise_for_status()
        tokens = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcRefused("sso", f"token exchange failed: {type(exc).__name__}") from None
    if not isinstance(tokens, dict):
        raise OidcRefused("sso", "token exchange failed: not a JSON object")
    return tokens


def _settings(request: Request) -> OidcSettings:
    oidc = get_settings(request).oidc
    if oidc is None:
        raise HTTPException(404, "single sign-on is not configured")
    return oidc


def _refused(request: Request, exc: OidcRefused) -> Response:
    client = request.client.host if request.client else "unknown"
    log.warning("single sign-on refused for %s: %s", client, exc)
    response = RedirectResponse(f"/login?error={exc.code}", status_code=303)
    if exc.code != "sso-expired":  # a callback with another state must not cancel the real sign-in
        response.delete_cookie(PENDING_COOKIE, path=START_PATH)
    return response


@router.get(START_PATH)
def oidc_start(request: Request, next: str = "/") -> Response:
    """Send the browser to the provider (public)."""
    oidc = _settings(request)
    try:
        provider = _provider(request, oidc)
    except OidcRefused as exc:
        return _refused(request, exc)
    pending = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": secrets.token_urlsafe(48),
        "next": safe_next(next),
    }
    url = _authorization_url(request, oidc, provider.metadata["authorization_endpoint"], pending)
    response = RedirectResponse(url, status_code=303)
    value = base64.urlsafe_b64encode(json.dumps(pending).encode()).decode()
    response.set_cookie(
        PENDING_COOKIE,
        value,
        max_age=PENDING_MAX_AGE_S,
        path=START_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def _pending(request: Request, state: str) -> dict[str, str]:
    raw = request.cookies.get(PENDING_COOKIE, "")
    try:
        pending = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (binascii.Error, ValueError):
        pending = None
    if not isinstance(pending, dict) or not all(isinstance(pending.get(k), str) for k in ("state", "nonce")):
        raise OidcRefused("sso-expired", "no sign-in in progress in this browser (or it expired)")
    if not state or not secrets.compare_digest(pending["state"], state):
        raise OidcRefused("sso-expired", "state does not match the sign-in this browser started")
    return pending


def _claims(id_token: str, provider: _Provider, oidc: OidcSettings, nonce: str) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, expiry and nonce hold."""
    token = jwt.decode(id_token, provider.keys, algorithms=ALGORITHMS)
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": oidc.issuer},
        aud={"essential": True, "value": oidc.client_id},
        exp={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
        leeway=60,
    )
    registry.validate(token.claims)
    audiences = token.claims["aud"] if isinstance(token.claims["aud"], list) else [token.claims["aud"]]
    if len(audiences) > 1 and token.claims.get("azp") != oidc.client_id:
        raise OidcRefused("sso", "ID token for several audiences without this client as azp")
    return dict(token.claims)


def _verified_claims(request: Request, oidc: OidcSettings, id_token: str, nonce: str) -> dict[str, Any]:
    try:
        try:
            return _claims(id_token, _provider(request, oidc), oidc, nonce)
        except InvalidKeyIdError:  # a key the cached set lacks: the provider may have rotated them
            return _claims(id_token, _provider(request, oidc, refresh=True), oidc, nonce)
    except (JoseError, ValueError) as exc:
        raise OidcRefused("sso", f"ID token refused: {type(exc).__name__}: {exc}") from None


def _username(claims: dict[str, Any], oidc: OidcSettings) -> str:
    value = claims.get(oidc.username_claim)
    if not isinstance(value, str) or not value.strip():
        raise OidcRefused("sso", f"the ID token has no {oidc.username_claim!r} claim")
    if oidc.username_claim == "email" and claims.get("email_verified") is False:
        raise OidcRefused("sso-refused", "the provider says this email address is not verified")
    username = value.strip().lower() if "@" in value else value.strip()
    if oidc.allowed_domains and username.rpartition("@")[2] not in oidc.allowed_domains:
        raise OidcRefused("sso-refused", f"{username}: domain not allowed to sign in")
    return username


@router.get(CALLBACK_PATH, name="oidc_callback")
def oidc_callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    """The provider's answer: check it, then start a session (public)."""
    oidc = _settings(request)
    try:
        pending = _pending(request, state)
        if error or not code:
            raise OidcRefused("sso-refused", f"the provider answered {error or 'without a code'}")
        provider = _provider(request, oidc)
        tokens = _exchange(request, oidc, provider.metadata["token_endpoint"], code, pending["verifier"])
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OidcRefused("sso", "the token response holds no ID token")
        username = _username(_verified_claims(request, oidc, id_token, pending["nonce"]), oidc)
        cookie = _sign_in(request, oidc, username)
    except OidcRefused as exc:
        return _refused(request, exc)
    response = RedirectResponse(safe_next(pending.get("next") or "/"), status_code=303)
    response.set_cookie(
        COOKIE, cookie, httponly=True, samesite="lax", secure=request.url.scheme == "https", max_age=12 * 3600
    )
    response.delete_cookie(PENDING_COOKIE, path=START_PATH)
    return response


def _sign_in(request: Request, oidc: OidcSettings, username: str) -> str:
    """Start a session for ``username`` (created on a first sign-in when allowed)."""
    client = request.client.host if request.client else "unknown"
    with get_store(request).write() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            try:  # an invite to this name or address is an administrator's consent, and gives its roles
                user = accept_by_sign_in(session, username)
                if user is None and not oidc.create_users:
                    raise OidcRefused("sso-unknown", f"{username}: no such user and SSO creates none")
                if user is None:  # no password anyone knows: this user signs in through the provider
                    user = create_user(session, username, secrets.token_urlsafe(32), actor="sso")
            except InputError as exc:
                raise OidcRefused("sso-refused", str(exc)) from None
        if user.disabled:
            raise OidcRefused("sso-refused", f"{username}: user disabled")
        cookie, _ = start_session(session, user)
        session.add(AuditEvent(actor=user.username, action="user.signed_in", reason=f"sso {client}"[:500]))
    return cookie
