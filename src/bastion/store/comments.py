"""Comments on a finding: who said what, when; every one also an audit event.

The text is kept as typed, except that any secret the built-in rules find is redacted first
(people paste tokens); pages show it escaped, never rendered as markdown or HTML.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.store.models import AuditEvent, FindingComment, FindingRecord, utcnow
from bastion.store.sanitize import check_text, scrub

__all__ = ["AUDIT_EXCERPT", "COMMENT_ACTION", "MAX_COMMENT_CHARS", "add_comment", "list_comments"]

MAX_COMMENT_CHARS = 10_000
COMMENT_ACTION = "finding.commented"
AUDIT_EXCERPT = 200
"""Characters of the comment the audit event repeats."""


def add_comment(
    session: Session, finding: FindingRecord, author: str, body: str, now: datetime | None = None
) -> FindingComment:
    """Add a comment to ``finding`` and its audit event; empty or oversized text is refused."""
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise InputError("comment: the text is empty")
    if len(text) > MAX_COMMENT_CHARS:
        raise InputError(f"comment: at most {MAX_COMMENT_CHARS} characters")
    if "\x00" in text:
        raise InputError("comment: the text holds a NUL character")
    check_text(text, "comment")
    text = scrub(text)
    now = now or utcnow()
    comment = FindingComment(
        finding_id=finding.id, project_id=finding.project_id, author=author[:200], created_at=now, body=text
    )
    session.add(comment)
    session.flush()
    excerpt = text if len(text) <= AUDIT_EXCERPT else text[: AUDIT_EXCERPT - 1] + "…"
    session.add(
        AuditEvent(
            at=now,
            actor=author[:200],
            action=COMMENT_ACTION,
            project_id=finding.project_id,
            finding_id=finding.id,
            from_status=finding.status,
            to_status=finding.status,
            reason=f"comment {comment.id}: {excerpt}",
        )
    )
    session.flush()
    return comment


def list_comments(session: Session, finding_id: int) -> list[FindingComment]:
    """The finding's comments, oldest first."""
    query = select(FindingComment).where(FindingComment.finding_id == finding_id).order_by(FindingComment.id)
    return list(session.scalars(query))
