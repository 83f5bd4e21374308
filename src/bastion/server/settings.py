"""Server settings, from arguments or ``BASTION_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from bastion.errors import ConfigError
from bastion.store.parse import DEFAULT_MAX_RESULTS
from bastion.store.sla import SlaPolicy

__all__ = ["ServerSettings"]

DEFAULT_MAX_UPLOAD_MB = 64


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
        )
