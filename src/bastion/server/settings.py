"""Server settings, from arguments or ``BASTION_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from bastion.errors import ConfigError
from bastion.store.parse import DEFAULT_MAX_RESULTS
from bastion.store.sla import SlaPolicy

__all__ = ["OidcSettings", "ServerSettings"]

DEFAULT_MAX_UPLOAD_MB = 64


@dataclass(frozen=True)
class OidcSettings:
    """Single sign-on with an OpenID Connect provider (authorization code flow with PKCE)."""

    issuer: str
    """The provider's issuer URL; its ``/.well-known/openid-configuration`` is read."""
    client_id: str
    client_secret: str = field(repr=False)
    username_claim: str = "email"
    """The ID token claim that becomes the Bastion user name (``email``, ``preferred_username``)."""
    allowed_domains: tuple[str, ...] = ()
    """When set, only user names ending in ``@`` one of these domains may sign in."""
    create_users: bool = True
    """Create a user (no project role, no password) on a first sign-in; else only existing users."""
    name: str = "SSO"
    """What the sign-in button says: "Sign in with NAME"."""

    @classmethod
    def from_env(cls) -> OidcSettings | None:
        """From ``BASTION_OIDC_ISSUER``, ``_CLIENT_ID``, ``_CLIENT_SECRET`` and the optional
        ``_USERNAME_CLAIM``, ``_ALLOWED_DOMAINS`` (comma-separated), ``_CREATE_USERS`` (true/false),
        ``_NAME``; None when no issuer is set."""
        issuer = os.environ.get("BASTION_OIDC_ISSUER", "").strip()
        if not issuer:
            return None
        client_id = os.environ.get("BASTION_OIDC_CLIENT_ID", "").strip()
        secret = os.environ.get("BASTION_OIDC_CLIENT_SECRET", "")
        if not client_id or not secret:
            raise ConfigError(
                "BASTION_OIDC_ISSUER is set: set BASTION_OIDC_CLIENT_ID and BASTION_OIDC_CLIENT_SECRET too"
            )
        if not issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ConfigError(f"BASTION_OIDC_ISSUER {issuer!r}: must be https (http only on loopback)")
        create = os.environ.get("BASTION_OIDC_CREATE_USERS", "true").strip().lower()
        if create not in ("true", "false"):
            raise ConfigError(f"BASTION_OIDC_CREATE_USERS: {create!r} is not true or false")
        domains = os.environ.get("BASTION_OIDC_ALLOWED_DOMAINS", "")
        return cls(
            issuer=issuer,
            client_id=client_id,
            client_secret=secret,
            username_claim=os.environ.get("BASTION_OIDC_USERNAME_CLAIM", "email").strip() or "email",
            allowed_domains=tuple(d.strip().lower().lstrip("@") for d in domains.split(",") if d.strip()),
            create_users=create == "true",
            name=os.environ.get("BASTION_OIDC_NAME", "SSO").strip()[:40] or "SSO",
        )


@dataclass(frozen=True)
class ServerSettings:
    """How the server runs: database, upload limit, SLA, login throttling."""

    database_url: str | None = None
    """None: ``BASTION_DATABASE_URL`` or the SQLite file in the user data directory."""
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    login_attempts: int = 5
    """Failed sign-ins allowed per (user name, client address) in ``login_window_s``."""
    login_address_attempts: int = 20
    """Failed sign-ins allowed per client address, over all user names, in ``login_window_s``
    (accounts that signed in from that address before are not held by it)."""
    login_window_s: int = 900
    max_results: int = DEFAULT_MAX_RESULTS
    """Results (findings) one upload may hold (``BASTION_MAX_RESULTS``)."""
    migrate: bool = True
    """Run the migrations when the app starts."""
    oidc: OidcSettings | None = None
    """Single sign-on, when configured (``BASTION_OIDC_*``)."""

    @classmethod
    def from_env(cls, database_url: str | None = None) -> ServerSettings:
        """Settings from ``BASTION_MAX_UPLOAD_MB``, ``BASTION_MAX_RESULTS`` and ``BASTION_SLA``."""
        raw = os.environ.get("BASTION_MAX_UPLOAD_MB", "").strip()
        try:
            megabytes = float(raw) if raw else DEFAULT_MAX_UPLOAD_MB
        except ValueError:
            raise ConfigError(f"BASTION_MAX_UPLOAD_MB: {raw!r} is not a number") from None
        if megabytes <= 0:
            raise ConfigError("BASTION_MAX_UPLOAD_MB: must be positive")
        results = os.environ.get("BASTION_MAX_RESULTS", "").strip()
        if results and (not results.isdigit() or int(results) <= 0):
            raise ConfigError(f"BASTION_MAX_RESULTS: {results!r} is not a positive whole number")
        return cls(
            database_url=database_url,
            max_upload_bytes=int(megabytes * 1024 * 1024),
            sla=SlaPolicy.from_env(),
            max_results=int(results) if results else DEFAULT_MAX_RESULTS,
            oidc=OidcSettings.from_env(),
        )
