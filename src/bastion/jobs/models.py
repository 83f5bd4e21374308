"""Tables of scan jobs, their findings and the organisation's repositories (on the store's Base).

A job's findings are keyed by (job id, fingerprint): a job delivered twice (its worker killed
after the commit, before the acknowledgement) stores them once.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.models import Base, UTCDateTime, utcnow

__all__ = ["JobFinding", "JobRecord", "JobState", "OrgRepo"]


class JobState(enum.StrEnum):
    """Where a job is; ``retried`` is running again after a failure or a lost worker."""

    QUEUED = "queued"
    RUNNING = "running"
    RETRIED = "retried"
    DONE = "done"
    FAILED = "failed"
    """Ended with an error that retrying cannot fix (a bad URL, out of memory, a timeout)."""
    DEAD = "dead"
    """Dead-lettered: it failed on every one of its attempts."""


class JobRecord(Base):
    """One scan job: a repository to fetch and scan."""

    __tablename__ = "scan_jobs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    repo: Mapped[str] = mapped_column(String(1000))
    state: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Deliveries that started running it (a redelivery after ``kill -9`` counts)."""
    error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    notes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True, default=None)
    """What the fetch refused and the scan could not check, one line each."""
    findings: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, default=None)


class JobFinding(Base):
    """A finding a job stored; unique per (job, fingerprint)."""

    __tablename__ = "scan_job_findings"
    __table_args__ = (UniqueConstraint("job_id", "fingerprint"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("scan_jobs.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(200))
    rule_id: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(String(1000))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class OrgRepo(Base):
    """A repository of the organisation, scanned on demand or on a schedule."""

    __tablename__ = "org_repos"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(1000), unique=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    every_s: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    next_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, default=None)
