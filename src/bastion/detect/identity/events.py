"""The one sign-in event every parser produces and every detection consumes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["BAD_PASSWORD", "MFA_DENIED", "OTHER", "UNKNOWN_USER", "SignIn", "Skips"]

BAD_PASSWORD = "bad_password"  # bastion: ignore[sast.bandit.B105] a failure reason, not a password
"""Failure reason: the account exists, the secret was wrong."""
UNKNOWN_USER = "unknown_user"
"""Failure reason: no such account (typical of credential stuffing)."""
MFA_DENIED = "mfa_denied"
"""Failure reason: the second factor was refused or timed out."""
OTHER = "other"
"""Any other failure (locked, policy, expired)."""


@dataclass(slots=True)
class SignIn:
    """One authentication attempt, whatever log it came from."""

    time: datetime
    """When it happened, timezone-aware UTC."""
    user: str
    """The identity as the log names it: UPN, IAM ARN or name, Linux account."""
    ip: str
    """Source address ('' when the log has none)."""
    success: bool
    """True when the sign-in (or privileged action) succeeded."""
    reason: str = ""
    """Failure reason: one of the module constants, '' on success."""
    action: str = "signin"
    """``signin``, ``mfa`` (a second-factor prompt outcome) or ``privileged`` (sudo, su, admin role)."""
    app: str = ""
    """Application or service signed in to (``Azure Portal``, ``ConsoleLogin``, ``sshd``)."""
    client: str = ""
    """User agent or client application."""
    device: str = ""
    """Device id, or a device fingerprint (OS/browser) when the log has no id."""
    country: str = ""
    """Country as the log gives it (two-letter code), '' when absent."""
    city: str = ""
    """City as the log gives it."""
    lat: float | None = None
    """Latitude as the log gives it."""
    lon: float | None = None
    """Longitude as the log gives it."""
    source: str = ""
    """File the event came from."""
    line: int = 0
    """Line (or record) number in that file, 1-based."""
    raw: str = ""
    """A short evidence form of the record."""
    asn: str = ""
    """Network (ASN) as the log gives it ('' when absent; a geo source's answer wins)."""
    flagged: str = ""
    """Why the log's own provider marked this sign-in risky (Google ``is_suspicious``), '' when it did not."""


@dataclass
class Skips:
    """Counted records that were not sign-ins or could not be read, per reason."""

    counts: dict[str, int]

    def __init__(self) -> None:
        """Start with no skips."""
        self.counts = {}

    def add(self, reason: str, n: int = 1) -> None:
        """Count ``n`` skipped records for ``reason``."""
        self.counts[reason] = self.counts.get(reason, 0) + n

    @property
    def total(self) -> int:
        """All skipped records."""
        return sum(self.counts.values())

    def notes(self) -> list[str]:
        """One line per reason, largest first."""
        return [f"skipped {n} record(s): {r}" for r, n in sorted(self.counts.items(), key=lambda x: -x[1])]
