"""Store models of the phishing exercises (:mod:`bastion.phish`).

Tables: ``phish_keys`` (the tracking tokens' HMAC key), ``phish_targets`` (people by group),
``phish_campaigns``, ``phish_recipients`` (one per target per campaign: its random token id and
its send state), ``phish_send_log`` and ``phish_events`` (open, click, beacon, submit, report).
A submit event holds the NAMES of the fields that were filled, never a value: there is no
column a value could go to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.models import Base, utcnow

__all__ = [
    "PhishCampaign",
    "PhishEvent",
    "PhishKey",
    "PhishRecipient",
    "PhishSendLog",
    "PhishTarget",
]


class PhishKey(Base):
    """The HMAC key that signs tracking tokens (one row; ``BASTION_PHISH_SECRET`` overrides it)."""

    __tablename__ = "phish_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PhishTarget(Base):
    """A person who may receive exercise messages, in a named group."""

    __tablename__ = "phish_targets"
    __table_args__ = (UniqueConstraint("group_name", "email", name="uq_phish_targets_group_email"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    manager: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="")
    excluded: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PhishCampaign(Base):
    """One exercise: the message, the landing page, the audience and its state."""

    __tablename__ = "phish_campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    group_name: Mapped[str] = mapped_column(String(100))
    sender: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    attachment_name: Mapped[str] = mapped_column(String(200), default="")
    landing_kind: Mapped[str] = mapped_column(String(20), default="training")
    landing_html: Mapped[str] = mapped_column(Text)
    base_url: Mapped[str] = mapped_column(String(500))
    window_minutes: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column()
    stopped_at: Mapped[datetime | None] = mapped_column()
    purged_at: Mapped[datetime | None] = mapped_column()
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PhishRecipient(Base):
    """A target inside one campaign: token id (random, in no way derived from the person), send state."""

    __tablename__ = "phish_recipients"
    __table_args__ = (Index("ix_phish_recipients_campaign", "campaign_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("phish_campaigns.id", ondelete="CASCADE"))
    token_id: Mapped[str] = mapped_column(String(40), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    manager: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="")
    send_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column()
    message_id: Mapped[str] = mapped_column(String(200), default="")
    last_error: Mapped[str] = mapped_column(String(500), default="")


class PhishSendLog(Base):
    """One delivery attempt: when, which recipient, what came of it."""

    __tablename__ = "phish_send_log"
    __table_args__ = (Index("ix_phish_send_log_campaign", "campaign_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("phish_campaigns.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("phish_recipients.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(500), default="")


class PhishEvent(Base):
    """One tracked request; ``fields`` lists the names of filled form fields (submit), never values."""

    __tablename__ = "phish_events"
    __table_args__ = (Index("ix_phish_events_campaign", "campaign_id", "recipient_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("phish_campaigns.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("phish_recipients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    method: Mapped[str] = mapped_column(String(10), default="GET")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    delay_s: Mapped[float | None] = mapped_column(Float)
    prefetch: Mapped[bool] = mapped_column(default=False)
    cookie: Mapped[bool] = mapped_column(default=False)
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    via: Mapped[str] = mapped_column(String(20), default="")
