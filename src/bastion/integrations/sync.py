"""Two-way sync between findings and tracker issues.

One pass over a project: every open finding at or above the tracker's ``min_severity`` without
an issue gets one (its link is stored at once, so a rerun never opens a second); every linked
issue is read back, and a change of state there moves the finding: closing the issue marks the
finding fixed, reopening it reopens the finding. Network calls run outside any database write
transaction. One issue that fails is reported and the pass goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.findings import Severity
from bastion.integrations.config import TrackerConfig
from bastion.integrations.trackers import IssueDraft, RemoteIssue, Tracker, TrackerError
from bastion.store.db import Store
from bastion.store.integrations import IssueLink
from bastion.store.lifecycle import triage
from bastion.store.models import OPEN_STATUSES, FindingRecord, utcnow

__all__ = ["SyncReport", "apply_issue_state", "draft_for", "sync_tracker"]


@dataclass
class SyncReport:
    """What one sync did."""

    tracker: str
    created: list[str] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    """Findings marked fixed because their issue was closed."""
    reopened: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """JSON form for the API."""
        return {
            "tracker": self.tracker,
            "created": self.created,
            "closed": self.closed,
            "reopened": self.reopened,
            "errors": self.errors,
        }


def draft_for(finding: FindingRecord, labels: tuple[str, ...]) -> IssueDraft:
    """The issue for ``finding``: its texts were scrubbed of secrets when stored."""
    lines = [
        f"**{finding.severity.upper()}** `{finding.rule_id}` found by {finding.scanner}",
        "",
        f"Location: `{finding.location}`",
        "",
        finding.message,
    ]
    if finding.fix:
        lines += ["", f"Fix: {finding.fix}"]
    if finding.help_uri:
        lines += ["", f"More: {finding.help_uri}"]
    lines += ["", f"Bastion finding {finding.id} (fingerprint `{finding.fingerprint[:16]}`)."]
    title = f"[{finding.severity}] {finding.title}"[:250]
    return IssueDraft(title, "\n".join(lines), (*labels, f"severity:{finding.severity}"))


def apply_issue_state(
    session: Session, tracker: str, key: str, closed: bool, actor: str, now: datetime | None = None
) -> str | None:
    """Record that issue ``key`` of ``tracker`` is now closed (or open) and move its finding.

    Returns ``"closed"`` or ``"reopened"`` when the finding moved, None otherwise (unknown issue,
    same state as last seen, or a finding already in the matching state)."""
    now = now or utcnow()
    link = session.scalar(
        select(IssueLink).where(IssueLink.tracker == tracker, IssueLink.external_key == key)
    )
    if link is None:
        return None
    state = "closed" if closed else "open"
    link.synced_at = now
    if link.state == state:
        return None
    link.state = state
    finding = session.get_one(FindingRecord, link.finding_id)
    if closed and finding.status in OPEN_STATUSES:
        triage(session, finding, "fixed", actor, f"issue {key} closed in {tracker}", now=now)
        return "closed"
    if not closed and finding.status == "fixed":
        triage(session, finding, "open", actor, f"issue {key} reopened in {tracker}", now=now)
        finding.reopen_count += 1
        return "reopened"
    return None


def sync_tracker(
    store: Store, project_id: int, config: TrackerConfig, tracker: Tracker, now: datetime | None = None
) -> SyncReport:
    """Open issues for new findings and bring issue state changes back (see the module doc)."""
    report = SyncReport(config.name)
    actor = f"tracker:{config.name}"
    floor = Severity(config.min_severity).rank
    with store.read() as session:
        linked = {
            link.finding_id: link.external_key
            for link in session.scalars(
                select(IssueLink).where(IssueLink.project_id == project_id, IssueLink.tracker == config.name)
            )
        }
        candidates = session.scalars(
            select(FindingRecord)
            .where(
                FindingRecord.project_id == project_id,
                FindingRecord.status.in_(OPEN_STATUSES),
                FindingRecord.severity_rank >= floor,
            )
            .order_by(FindingRecord.severity_rank.desc(), FindingRecord.id)
        ).all()
        drafts = [(f.id, draft_for(f, config.labels)) for f in candidates if f.id not in linked]
    for finding_id, draft in drafts:
        try:
            issue = tracker.create(draft)
        except TrackerError as exc:
            report.errors.append(str(exc))
            continue
        with store.write() as session:
            session.add(
                IssueLink(
                    project_id=project_id,
                    finding_id=finding_id,
                    tracker=config.name,
                    external_key=issue.key,
                    url=issue.url,
                    state="closed" if issue.closed else "open",
                    created_at=now or utcnow(),
                    synced_at=now or utcnow(),
                )
            )
        report.created.append(issue.key)
    seen: list[RemoteIssue] = []
    for key in linked.values():
        try:
            seen.append(tracker.fetch(key))
        except TrackerError as exc:
            report.errors.append(str(exc))
    with store.write() as session:
        for issue in seen:
            moved = apply_issue_state(session, config.name, issue.key, issue.closed, actor, now)
            link = session.scalar(
                select(IssueLink).where(IssueLink.tracker == config.name, IssueLink.external_key == issue.key)
            )
            if moved == "closed" and link is not None:
                report.closed.append(link.finding_id)
            elif moved == "reopened" and link is not None:
                report.reopened.append(link.finding_id)
    return report
