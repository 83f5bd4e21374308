"""Invitations: a site administrator invites a person, who sets a password through a link.

An :class:`Invite` names the account to create (``username``, and optionally the ``email`` the
link was sent to), whether it is a site administrator, and its role in each project. The link
carries a 256-bit random token; only its SHA-256 is stored. An invite is used once, expires
(seven days unless told otherwise) and can be revoked; every step is an audit event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.models import Base, utcnow

__all__ = ["Invite"]


class Invite(Base):
    """One invitation to join (pending, used, expired or revoked)."""

    __tablename__ = "invites"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_invites_token_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the link's token: the token itself is shown once and never stored."""
    username: Mapped[str] = mapped_column(String(150), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    roles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """Role by project slug, given when the invite is accepted."""
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """The account the invite created, once used."""
    revoked_at: Mapped[datetime | None] = mapped_column()
