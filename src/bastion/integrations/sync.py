"""Two-way sync between findings and tracker issues.

One pass over a project: every open finding at or above the tracker's ``min_severity`` without
an issue gets one (its link is claimed before the issue is opened, so neither a rerun nor a
concurrent sync opens a second; a failed opening gives the claim back); every linked
issue is read back, and a change of state there moves the finding: closing the issue marks the
finding fixed, reopening it reopens the finding. Network calls run outside any database write
transaction. One issue that fails is reported and the pass goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
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


def _claim(
    store: Store, project_id: int, finding_id: int, tracker: str, pending: str, now: datetime | None
) -> bool:
    """Hold the finding's link before the issue is opened: the unique (finding, tracker) key lets
    only one of two concurrent syncs open it."""
    try:
        with store.write() as session:
            session.add(
                IssueLink(
                    project_id=project_id,
                    finding_id=finding_id,
                    tracker=tracker,
                    external_key=pending,
                    url="",
                    state="open",
                    created_at=now or utcnow(),
                    synced_at=now or utcnow(),
                )
            )
    except IntegrityError:
        return False
    return True


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
        pending = f"pending:{finding_id}"
        if not _claim(store, project_id, finding_id, config.name, pending, now):
            continue  # another sync holds it: that one opens the issue
        try:
            issue = tracker.create(draft)
        except TrackerError as exc:
            report.errors.append(str(exc))
            with store.write() as session:
                session.execute(
                    delete(IssueLink).where(
                        IssueLink.tracker == config.name, IssueLink.external_key == pending
                    )
                )
            continue
        with store.write() as session:
            link = session.scalars(
                select(IssueLink).where(IssueLink.tracker == config.name, IssueLink.external_key == pending)
            ).one()
            link.external_key, link.url = issue.key, issue.url
            link.state = "closed" if issue.closed else "open"
        report.created.append(issue.key)
    seen: list[RemoteIssue] = []
    for key in linked.values():
        if key.startswith("pending:"):
            continue  # being opened by another sync right now
        try:
            seen.append(tracker.fetch(key))
        except TrackerError as exc:
            report.errors.append(str(exc))
    with store.write() as session:
        for issue in seen:
            moved = apply_issue_state(session, config.name, issue.key, issue.closed, actor, now)
            found = session.scalar(
                select(IssueLink.finding_id).where(
                    IssueLink.tracker == config.name, IssueLink.external_key == issue.key
                )
            )
            if moved == "closed" and found is not None:
                report.closed.append(found)
            elif moved == "reopened" and found is not None:
                report.reopened.append(found)
    return report
