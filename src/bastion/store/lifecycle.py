"""Triage and the time-driven parts of a finding's lifecycle.

Triage states: ``open``, ``confirmed``, ``false_positive``, ``risk_accepted`` (with a
reason and an expiry, after which the finding reopens) and ``fixed``. Every change is
an :class:`~bastion.store.models.AuditEvent` naming who, when and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.store.models import (
    OPEN_STATUSES,
    STATUSES,
    AuditEvent,
    DailyCount,
    FindingRecord,
    utcnow,
)

__all__ = ["expire_acceptances", "record_snapshot", "triage"]

REASON_REQUIRED = ("false_positive", "risk_accepted")


def check_decision(
    status: str, reason: str, until: datetime | None, now: datetime, allowed: Sequence[str] = STATUSES
) -> str:
    """Raise :class:`InputError` unless moving to ``status`` (one of ``allowed``) with this reason
    and expiry is valid; returns the reason stripped."""
    if status not in allowed:
        raise InputError(f"status {status!r}: choose from {', '.join(allowed)}")
    reason = reason.strip()
    if status in REASON_REQUIRED and not reason:
        raise InputError(f"status {status}: a reason is required")
    if status == "risk_accepted":
        if until is None:
            raise InputError("status risk_accepted: an expiry date is required")
        if until <= now:
            raise InputError("status risk_accepted: the expiry must be in the future")
    return reason


def triage(
    session: Session,
    finding: FindingRecord,
    status: str,
    actor: str,
    reason: str = "",
    until: datetime | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Move ``finding`` to ``status``; risk acceptance needs a reason and a future expiry."""
    now = now or utcnow()
    reason = check_decision(status, reason, until, now)
    before = finding.status
    finding.status = status
    finding.accepted_reason = reason if status == "risk_accepted" else None
    finding.accepted_until = until if status == "risk_accepted" else None
    finding.fixed_at = now if status == "fixed" else None
    if status == "fixed" and before == "fixed":
        finding.fixed_at = finding.fixed_at or now
    detail = reason
    if until is not None and status == "risk_accepted":
        detail = f"{reason} (until {until.date().isoformat()})"
    event = AuditEvent(
        at=now,
        actor=actor[:200],
        action="finding.triaged",
        project_id=finding.project_id,
        finding_id=finding.id,
        from_status=before,
        to_status=status,
        reason=detail,
    )
    session.add(event)
    session.flush()
    record_snapshot(session, finding.project_id, now)
    return event


def expire_acceptances(session: Session, now: datetime | None = None, project_id: int | None = None) -> int:
    """Reopen every risk acceptance whose expiry has passed; returns how many."""
    now = now or utcnow()
    query = select(FindingRecord).where(
        FindingRecord.status == "risk_accepted", FindingRecord.accepted_until <= now
    )
    if project_id is not None:
        query = query.where(FindingRecord.project_id == project_id)
    expired = session.scalars(query).all()
    projects = set()
    for finding in expired:
        session.add(
            AuditEvent(
                at=now,
                actor="system",
                action="finding.acceptance_expired",
                project_id=finding.project_id,
                finding_id=finding.id,
                from_status="risk_accepted",
                to_status="open",
                reason=f"risk acceptance expired: {finding.accepted_reason or ''}",
            )
        )
        finding.status = "open"
        finding.accepted_until = None
        projects.add(finding.project_id)
    session.flush()
    for project in projects:
        record_snapshot(session, project, now)
    return len(expired)


def record_snapshot(session: Session, project_id: int, now: datetime | None = None) -> None:
    """Store today's open counts by severity for the project (the trend chart's points)."""
    now = now or utcnow()
    day = now.date()
    counts = dict(
        session.execute(
            select(FindingRecord.severity, func.count())
            .where(FindingRecord.project_id == project_id, FindingRecord.status.in_(OPEN_STATUSES))
            .group_by(FindingRecord.severity)
        ).all()
    )
    rows = {
        row.severity: row
        for row in session.scalars(
            select(DailyCount).where(DailyCount.project_id == project_id, DailyCount.day == day)
        )
    }
    for severity in ("critical", "high", "medium", "low", "info"):
        count = int(counts.get(severity, 0))
        if severity in rows:
            rows[severity].open_count = count
        else:
            session.add(DailyCount(project_id=project_id, day=day, severity=severity, open_count=count))
    session.flush()
