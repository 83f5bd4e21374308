"""A stand-in OpenID Connect provider on 127.0.0.1 for the server's single sign-on tests.

It speaks the real protocol: discovery, an authorization endpoint that redirects back with a code
(the signed-in person is whoever ``user`` says), a token endpoint that checks the client's secret
(HTTP Basic), the redirect URI, a one-time code and the PKCE verifier (S256), and a JWKS endpoint.
``tamper`` changes what the next ID tokens carry, to test that Bastion refuses them.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from server_world import serve_app

CLIENT_ID = "bastion-dashboard"
CLIENT_SECRET = "stand-in-client-secret"
REGISTERED_CALLBACK = "/login/oidc/callback"
"""The path of the redirect URI registered for Bastion (any loopback host and port)."""


@dataclass
class Provider:
    """The provider's state; ``url`` is its issuer."""

    url: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    user: dict[str, Any] = field(default_factory=lambda: {"sub": "u-100", "email": "Dana@Example.com"})
    tamper: dict[str, Any] = field(default_factory=dict)
    """Claims to override in the next ID tokens (``aud``, ``iss``, ``exp``, ``nonce``...), or
    ``{"sign_with": key}`` to sign with a key the JWKS does not publish."""
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def rotate(self) -> None:
        """A new signing key, published in place of the old one."""
        self.key = RSAKey.generate_key(2048, parameters={"kid": f"k{secrets.randbelow(10**6)}"})


def _app(provider: Provider) -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {
            "issuer": provider.url,
            "authorization_endpoint": f"{provider.url}/authorize",
            "token_endpoint": f"{provider.url}/token",
            "jwks_uri": f"{provider.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        return KeySet([provider.key]).as_dict(private=False)

    @app.get("/authorize")
    def authorize(
        response_type: str,
        client_id: str,
        redirect_uri: str,
        state: str,
        nonce: str,
        code_challenge: str,
        code_challenge_method: str,
        scope: str = "",
    ) -> Response:
        if response_type != "code" or client_id != CLIENT_ID or code_challenge_method != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if "openid" not in scope.split():
            return JSONResponse({"error": "invalid_scope"}, status_code=400)
        if urlsplit(redirect_uri).path != REGISTERED_CALLBACK:  # a real provider checks registration
            return JSONResponse(
                {"error": "invalid_request", "error_description": "redirect_uri"}, status_code=400
            )
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {"nonce": nonce, "challenge": code_challenge, "redirect_uri": redirect_uri}
        answer = f"{redirect_uri}?{urlencode({'code': code, 'state': state})}"
        # bastion: ignore[sast.taint.open-redirect] a provider sends the browser back to the registered client
        return RedirectResponse(answer, status_code=302)

    @app.post("/token")
    def token(
        request: Request,
        grant_type: str = Form(),
        code: str = Form(),
        redirect_uri: str = Form(),
        code_verifier: str = Form(),
    ) -> Response:
        provider.token_requests += 1
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = provider.codes.pop(code, None)  # one use only
        if grant_type != "authorization_code" or grant is None or grant["redirect_uri"] != redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        digest = hashlib.sha256(code_verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": provider.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **provider.user,
        }
        tamper = dict(provider.tamper)
        key = tamper.pop("sign_with", provider.key)
        claims.update(tamper)
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        return JSONResponse(
            {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "id_token": id_token}
        )

    return app


def serve_provider() -> Iterator[Provider]:
    """Run a provider on 127.0.0.1:<ephemeral> until the generator closes."""
    provider = Provider()
    for url in serve_app(_app(provider)):
        provider.url = url
        yield provider
