"""Past readiness assessments kept on the server, so the dashboard shows the trend.

Each time the server computes a readiness assessment for a viewer (the ``/ready`` page,
``/api/v1/ready``), it keeps the verdict, the overall score and the four dimension scores: at most
one row per scope, audience and UTC day (a second assessment the same day updates that row). The
trend compares with the latest row of an earlier day with the same key.

The key is like for like: a viewer's "organisation" covers only the projects they may read, and a
project token reads fewer sources than a person (no phishing exercises), so a row is kept under its
*audience*: the kind of caller (``admin``, ``user`` or ``token``) and the exact set of project ids
they could read. Two viewers who could read different projects never see each other's rows; two
who read the same projects through the same kind of credential share one history. Adding a
project changes an administrator's set, so the organisation's trend starts again from that day.

Rows older than :data:`RETENTION_DAYS` are pruned when a new day's row is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Date, Float, Index, Select, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bastion.store.models import Base

__all__ = [
    "HISTORY_LIMIT",
    "ORGANISATION",
    "RETENTION_DAYS",
    "Audience",
    "ReadyAssessment",
    "Snapshot",
    "audience_of",
    "history",
    "previous_snapshot",
    "record_snapshot",
]

RETENTION_DAYS = 400
"""Days a kept assessment lives (a year and a season: this quarter against the same one last year)."""
HISTORY_LIMIT = 400
"""Rows :func:`history` returns at most (newest first)."""
ORGANISATION = "organisation"
"""The scope of an organisation-wide assessment (a project's scope is ``project:<id>``)."""


@dataclass(frozen=True)
class Audience:
    """Who could see what: the kind of caller and the projects they could read."""

    kind: str
    """``admin``, ``user`` or ``token``: a token reads fewer sources than a person."""
    project_ids: tuple[int, ...]
    """The ids of the projects the caller could read, sorted."""

    @property
    def key(self) -> str:
        """A fixed-width digest of the audience, the column rows are matched on."""
        text = f"{self.kind}:{','.join(str(i) for i in sorted(self.project_ids))}"
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """One kept assessment, as the trend reads it."""

    at: datetime
    """When it was computed (timezone-aware UTC)."""
    verdict: str
    overall: float
    dimensions: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The fields a readiness history file keeps (``at`` ISO 8601 with its UTC offset)."""
        return {
            "at": self.at.isoformat(timespec="seconds"),
            "verdict": self.verdict,
            "overall": self.overall,
            "dimensions": dict(self.dimensions),
        }


class ReadyAssessment(Base):
    """One readiness assessment kept for a scope and an audience on one UTC day."""

    __tablename__ = "ready_assessments"
    __table_args__ = (
        UniqueConstraint("scope", "audience_key", "day", name="uq_ready_assessments_day"),
        Index("ix_ready_assessments_day", "day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    """``organisation`` or ``project:<id>`` (by id: the trend survives a renamed slug)."""
    audience_key: Mapped[str] = mapped_column(String(64))
    """:attr:`Audience.key` of the viewers the assessment was computed for."""
    audience_kind: Mapped[str] = mapped_column(String(10))
    """``admin``, ``user`` or ``token``."""
    project_ids: Mapped[list[int]] = mapped_column(JSON)
    """The projects those viewers could read (sorted ids), kept for the audit of a comparison."""
    day: Mapped[date] = mapped_column(Date)
    """The UTC day: one row per scope, audience and day."""
    at: Mapped[datetime] = mapped_column()
    """When it was last computed that day."""
    verdict: Mapped[str] = mapped_column(String(20))
    overall: Mapped[float] = mapped_column(Float)
    dimensions: Mapped[dict[str, float]] = mapped_column(JSON)
    """Score out of 100 by dimension (``prepare``, ``detect``, ``respond``, ``recover``)."""


def _snapshot(row: ReadyAssessment) -> Snapshot:
    return Snapshot(row.at, row.verdict, row.overall, dict(row.dimensions))


def _rows(scope: str, audience: Audience) -> Select[ReadyAssessment]:
    return select(ReadyAssessment).where(
        ReadyAssessment.scope == scope, ReadyAssessment.audience_key == audience.key
    )


def previous_snapshot(session: Session, scope: str, audience: Audience, today: date) -> Snapshot | None:
    """The latest assessment of ``scope`` for ``audience`` kept on a day before ``today``."""
    query = _rows(scope, audience).where(ReadyAssessment.day < today).order_by(ReadyAssessment.day.desc())
    row = session.scalars(query.limit(1)).first()
    return None if row is None else _snapshot(row)


def history(session: Session, scope: str, audience: Audience) -> list[Snapshot]:
    """The kept assessments of ``scope`` for ``audience``, newest first (at most :data:`HISTORY_LIMIT`)."""
    query = _rows(scope, audience).order_by(ReadyAssessment.day.desc()).limit(HISTORY_LIMIT)
    return [_snapshot(row) for row in session.scalars(query)]


def record_snapshot(
    session: Session,
    scope: str,
    audience: Audience,
    snapshot: Snapshot,
    *,
    retention_days: int = RETENTION_DAYS,
) -> ReadyAssessment:
    """Keep ``snapshot`` as the day's assessment of ``scope`` for ``audience``: update the day's row
    when there is one, else insert it and prune rows older than ``retention_days``.

    Two viewers of one audience may compute the same day's first assessment at once: the loser
    of the insert (the unique key) updates the winner's row instead, inside a savepoint."""
    if retention_days < 1:
        raise ValueError(f"retention_days: expected a positive number of days, got {retention_days}")
    day = snapshot.at.astimezone(UTC).date()
    values = {
        "at": snapshot.at,
        "verdict": snapshot.verdict,
        "overall": snapshot.overall,
        "dimensions": dict(snapshot.dimensions),
    }
    row = session.scalars(_rows(scope, audience).where(ReadyAssessment.day == day)).first()
    if row is None:
        fresh = ReadyAssessment(
            scope=scope,
            audience_key=audience.key,
            audience_kind=audience.kind,
            project_ids=sorted(audience.project_ids),
            day=day,
            **values,
        )
        try:
            with session.begin_nested():
                session.add(fresh)
            oldest = day - timedelta(days=retention_days)
            session.execute(delete(ReadyAssessment).where(ReadyAssessment.day < oldest))
            return fresh
        except IntegrityError:
            row = session.scalars(_rows(scope, audience).where(ReadyAssessment.day == day)).one()
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
    return row


def audience_of(kind: str, project_ids: Sequence[int]) -> Audience:
    """An :class:`Audience` with its ids sorted and de-duplicated."""
    return Audience(kind, tuple(sorted(set(project_ids))))
