"""Tracking tokens: a random id (128 bits, derived from nothing about the person) signed with
HMAC-SHA256 (``itsdangerous``), so a forged or guessed token is refused before any lookup.

The key is ``BASTION_PHISH_SECRET`` when set, else one random key kept in the store (the CLI
that sends and the server that tracks share it).
"""

from __future__ import annotations

import hashlib
import os
import secrets

from itsdangerous import BadSignature, Signer
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.store.phish import PhishKey

__all__ = ["SECRET_ENV", "TokenSigner", "new_token_id", "signer_for"]

SECRET_ENV = "BASTION_PHISH_SECRET"  # bastion: ignore[sast.bandit.B105] the variable's name, not a secret
_SALT = "bastion.phish.track.v1"
_MAX = 200


def new_token_id() -> str:
    """A fresh random recipient id (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


class TokenSigner:
    """Signs recipient ids into URL tokens and checks them."""

    def __init__(self, key: str) -> None:
        if len(key) < 16:
            raise ValueError("the tracking key must have at least 16 characters")
        self._signer = Signer(key, salt=_SALT, digest_method=hashlib.sha256)

    def sign(self, token_id: str) -> str:
        """The URL token of ``token_id``."""
        return self._signer.sign(token_id).decode("ascii")

    def unsign(self, token: str) -> str | None:
        """The recipient id inside ``token``, or None when the signature does not hold."""
        if not token or len(token) > _MAX or not token.isascii():
            return None
        try:
            return self._signer.unsign(token).decode("ascii")
        except BadSignature:
            return None


def signer_for(session: Session) -> TokenSigner:
    """The signer from ``BASTION_PHISH_SECRET``, or the store's key (created on first use)."""
    configured = os.environ.get(SECRET_ENV, "").strip()
    if configured:
        return TokenSigner(configured)
    row = session.scalars(select(PhishKey).order_by(PhishKey.id)).first()
    if row is None:
        row = PhishKey(key=secrets.token_urlsafe(32))
        session.add(row)
        session.flush()
    return TokenSigner(row.key)
