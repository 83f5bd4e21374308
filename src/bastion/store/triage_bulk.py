"""Bulk triage: one decision applied to many findings at once, all or nothing.

The rules are those of :func:`bastion.store.lifecycle.triage` (a reason for false positives and
risk acceptances, a future expiry for the latter) and every finding changed gets its own
:class:`~bastion.store.models.AuditEvent`, exactly as if triaged one by one; the daily snapshot
is taken once per project instead of once per finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.store.lifecycle import check_decision as lifecycle_check
from bastion.store.lifecycle import record_snapshot
from bastion.store.models import AuditEvent, FindingRecord, utcnow
from bastion.store.queries import FindingFilter, filter_conditions
from bastion.store.sla import SlaPolicy

__all__ = [
    "BULK_STATUSES",
    "MAX_BULK",
    "BulkResult",
    "Target",
    "bulk_triage",
    "check_decision",
    "load_findings",
    "matching_ids",
]

BULK_STATUSES = ("confirmed", "false_positive", "risk_accepted", "open")
"""What bulk triage may set: confirm, false positive, accept (with expiry and reason), reopen."""
MAX_BULK = 10_000
"""Findings one request may change (a larger selection is refused, never cut short)."""
_CHUNK = 900


@dataclass(frozen=True)
class BulkResult:
    """What a bulk triage did."""

    changed: tuple[int, ...]
    """Ids of the findings moved (one audit event each)."""
    unchanged: tuple[int, ...]
    """Ids already in that state with that reason and expiry (no event)."""


@dataclass(frozen=True)
class Target:
    """The triage state of one finding to change (read without loading the whole finding)."""

    id: int
    project_id: int
    status: str
    accepted_reason: str | None
    accepted_until: datetime | None


def load_findings(session: Session, ids: Sequence[int]) -> tuple[list[Target], list[int]]:
    """The findings with these ids (in the order given, duplicates dropped) and the ids not found."""
    wanted = list(dict.fromkeys(ids))
    found: dict[int, Target] = {}
    columns = (
        FindingRecord.id,
        FindingRecord.project_id,
        FindingRecord.status,
        FindingRecord.accepted_reason,
        FindingRecord.accepted_until,
    )
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start : start + _CHUNK]
        for row in session.execute(select(*columns).where(FindingRecord.id.in_(part))).all():
            found[row[0]] = Target(*row)
    return [found[i] for i in wanted if i in found], [i for i in wanted if i not in found]


def check_decision(status: str, reason: str, until: datetime | None, now: datetime) -> str:
    """Raise :class:`InputError` unless the bulk decision is valid; returns the reason stripped."""
    return lifecycle_check(status, reason, until, now, BULK_STATUSES)


def bulk_triage(
    session: Session,
    findings: Sequence[Target],
    status: str,
    actor: str,
    reason: str = "",
    until: datetime | None = None,
    now: datetime | None = None,
) -> BulkResult:
    """Move every finding to ``status``; nothing changes when the decision is invalid.

    One ``UPDATE`` per chunk of ids and one multi-row insert of the audit events: loading and
    flushing ten thousand ORM objects one by one took most of the time."""
    now = now or utcnow()
    reason = check_decision(status, reason, until, now)
    if len(findings) > MAX_BULK:
        raise InputError(f"{len(findings)} findings selected: at most {MAX_BULK} per request")
    accepted = status == "risk_accepted"
    detail = f"{reason} (until {until.date().isoformat()})" if accepted and until is not None else reason
    changed: list[int] = []
    unchanged: list[int] = []
    events: list[dict[str, object]] = []
    for finding in findings:
        same = finding.status == status and (
            not accepted or (finding.accepted_until == until and finding.accepted_reason == reason)
        )
        if same:
            unchanged.append(finding.id)
            continue
        changed.append(finding.id)
        events.append(
            {
                "at": now,
                "actor": actor[:200],
                "action": "finding.triaged",
                "project_id": finding.project_id,
                "finding_id": finding.id,
                "from_status": finding.status,
                "to_status": status,
                "reason": detail,
            }
        )
    values = {
        "status": status,
        "accepted_reason": reason if accepted else None,
        "accepted_until": until if accepted else None,
        "fixed_at": None,
    }
    for start in range(0, len(changed), _CHUNK):
        part = changed[start : start + _CHUNK]
        session.execute(
            update(FindingRecord).where(FindingRecord.id.in_(part)).values(**values),
            execution_options={"synchronize_session": False},
        )
    if events:
        session.execute(insert(AuditEvent), events)
    session.expire_all()  # any finding this session had loaded is out of date now
    for project_id in sorted({f.project_id for f in findings}):
        record_snapshot(session, project_id, now)
    return BulkResult(tuple(changed), tuple(unchanged))


def matching_ids(
    session: Session, filt: FindingFilter, sla: SlaPolicy, limit: int | None = None
) -> list[int]:
    """Ids of every finding matching ``filt`` (its page ignored); more than ``limit`` (default
    :data:`MAX_BULK`) is refused."""
    limit = MAX_BULK if limit is None else limit
    conditions = filter_conditions(filt, sla, utcnow())
    ids = list(
        session.scalars(
            select(FindingRecord.id).where(*conditions).order_by(FindingRecord.id).limit(limit + 1)
        )
    )
    if len(ids) > limit:
        total = int(session.scalar(select(func.count(FindingRecord.id)).where(*conditions)) or 0)
        raise InputError(f"the filter matches {total} findings: at most {limit} per request, narrow it")
    return ids
