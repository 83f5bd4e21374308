"""The readiness questionnaire on the server: process answers no tool can see, dated and attributed.

History is kept: every answer is a new row, never updated or deleted, so the table is its own
audit trail (who answered what, when, and which credential sent it). The latest answer to a
question in a scope counts; the readiness assessment lets it expire after its kind's
``max_age_days``, exactly as it does for answers kept in a local file.

A scope is one project (``project_id``) or the organisation (``project_id`` NULL).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bastion.store.models import Base, Project, utcnow

__all__ = ["ANSWER_LIMIT", "ReadyAnswer", "add_answer", "list_answers"]

ANSWER_LIMIT = 2000
"""Rows :func:`list_answers` returns at most (newest first)."""


class ReadyAnswer(Base):
    """One answer to a questionnaire question, in a project or for the organisation."""

    __tablename__ = "ready_answers"
    __table_args__ = (Index("ix_ready_answers_scope", "project_id", "question", "answered_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    """The project answered for; NULL for the organisation."""
    question: Mapped[str] = mapped_column(String(100))
    """The question's short id (``on-call``, ``backups-restored``...)."""
    answer: Mapped[str] = mapped_column(String(10))
    """``yes``, ``partly`` or ``no``."""
    answered_by: Mapped[str] = mapped_column(String(200))
    """The person who answered (a signed-in user's name, or the name a token's caller gave)."""
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When the server received it (the answer's age counts from here)."""
    note: Mapped[str] = mapped_column(Text, default="")
    """What shows it: a link, a ticket."""
    recorded_by: Mapped[str] = mapped_column(String(200))
    """The credential that sent it (user name or ``token:NAME (PREFIX)``), for the audit trail."""


def add_answer(
    session: Session,
    project_id: int | None,
    question: str,
    answer: str,
    answered_by: str,
    recorded_by: str,
    note: str = "",
    now: datetime | None = None,
) -> ReadyAnswer:
    """Append one answer (the caller checked the question and the value)."""
    row = ReadyAnswer(
        project_id=project_id,
        question=question,
        answer=answer,
        answered_by=answered_by,
        answered_at=now or utcnow(),
        note=note,
        recorded_by=recorded_by,
    )
    session.add(row)
    session.flush()
    return row


def list_answers(session: Session, project_ids: Sequence[int] | None) -> list[tuple[ReadyAnswer, str]]:
    """Organisation answers and those of ``project_ids`` (None: every project), newest first,
    each with its project's slug (empty for the organisation)."""
    query = (
        select(ReadyAnswer, Project.slug)
        .outerjoin(Project, Project.id == ReadyAnswer.project_id)
        .order_by(ReadyAnswer.answered_at.desc(), ReadyAnswer.id.desc())
        .limit(ANSWER_LIMIT)
    )
    if project_ids is not None:
        query = query.where(
            or_(ReadyAnswer.project_id.is_(None), ReadyAnswer.project_id.in_(list(project_ids) or [-1]))
        )
    return [(row, slug or "") for row, slug in session.execute(query)]
