"""Tables of the integrations: a finding's issue in a tracker, and notifications already sent.

:class:`IssueLink` ties a finding to the issue opened for it (GitHub, GitLab or Jira) and keeps the
state last seen there, so a sync changes the finding only when the issue changed. :class:`SentNotice`
holds one row per (channel, event) delivered: its unique key is what keeps a notice from going
out twice, whichever process sends it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.models import Base, utcnow

__all__ = ["ISSUE_STATES", "IssueLink", "SentNotice"]

ISSUE_STATES = ("open", "closed")


class IssueLink(Base):
    """The tracker issue opened for one finding."""

    __tablename__ = "integration_issues"
    __table_args__ = (
        UniqueConstraint("finding_id", "tracker", name="uq_integration_issues_finding_tracker"),
        UniqueConstraint("tracker", "external_key", name="uq_integration_issues_tracker_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    tracker: Mapped[str] = mapped_column(String(100))
    """The configured tracker's name (``github``, ``jira-payments``...)."""
    external_key: Mapped[str] = mapped_column(String(200))
    """The issue's key there: ``owner/repo#42``, ``group/project#7``, ``SEC-12``."""
    url: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class SentNotice(Base):
    """A notification delivered on one channel (never sent again)."""

    __tablename__ = "integration_notices"
    __table_args__ = (UniqueConstraint("channel", "event_key", name="uq_integration_notices_channel_event"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(100))
    event_key: Mapped[str] = mapped_column(String(200))
    """``critical:<finding id>``, ``sla:<finding id>``, ``kev:<finding id>``."""
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    summary: Mapped[str] = mapped_column(Text, default="")
