"""Redaction at the source: the only form of a secret that leaves this package.

A finding shows at most the first four characters and the length, ``ghp_…(40 chars)``.
Short secrets show fewer characters (a quarter of their length), so the prefix of an
eight-character password gives away two characters, not half of it.
"""

from __future__ import annotations

import hashlib

__all__ = ["redact", "secret_digest"]

MAX_SHOWN = 4
"""Characters of a secret that evidence may show."""


def redact(secret: str) -> str:
    """Evidence for ``secret``: a short prefix and the length, never the secret itself."""
    length = len(secret)
    shown = MAX_SHOWN if length >= 4 * MAX_SHOWN else length // 4
    return f"{secret[:shown]}\u2026({length} chars)"


def secret_digest(secret: str) -> str:
    """SHA-256 of ``secret`` in hex; fingerprints use it so they never contain the secret."""
    return hashlib.sha256(secret.encode("utf-8", errors="surrogatepass")).hexdigest()
