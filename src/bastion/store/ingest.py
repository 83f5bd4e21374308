"""Ingest an uploaded scan into the store and move every finding through its lifecycle.

A finding is identified by (project, fingerprint). A scan marks the findings it contains
seen (new ones opened, fixed ones reopened); a *full* scan also marks fixed every finding
of the scanners it covered that it no longer contains, but only where the scan itself says
it checked (:mod:`bastion.store.coverage`): a skipped scanner, a crashed run or a file not
checked fixes nothing. Each change is an audit event. Every stored text is scrubbed of
secrets first (:mod:`bastion.store.sanitize`), whatever the upload claims to be.
Uploads to one project are serialized (row lock on PostgreSQL, ``BEGIN IMMEDIATE`` on
SQLite), so concurrent uploads neither lose nor duplicate findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bastion.findings import Finding
from bastion.store.db import Store
from bastion.store.lifecycle import expire_acceptances, record_snapshot
from bastion.store.models import AuditEvent, FindingRecord, Project, Scan, utcnow
from bastion.store.parse import ParsedScan
from bastion.store.queries import search_key
from bastion.store.sanitize import scrub_tree

__all__ = ["IngestResult", "ingest"]

_FIXABLE = ("open", "confirmed", "risk_accepted")
_CHUNK = 2000


@dataclass(frozen=True)
class IngestResult:
    """What one upload changed."""

    scan_id: int
    findings: int
    new: int
    reopened: int
    fixed: int
    unchanged: int
    gaps: tuple[dict[str, str | None], ...] = ()
    """What the scan could not check; findings there were left as they were."""


def _published(finding: Finding) -> datetime | None:
    for key in ("published", "advisory_published", "published_at"):
        value = finding.metadata.get(key)
        if isinstance(value, str) and value:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _describe(finding: Finding) -> dict[str, Any]:
    """The columns a newer scan refreshes on a finding it sees again, every text scrubbed."""
    texts = scrub_tree(
        [
            finding.rule_id,
            finding.scanner,
            finding.title,
            finding.location.describe(),
            finding.location.to_dict(),
            finding.message,
            finding.evidence,
            finding.fix,
            finding.help_uri,
            list(finding.controls),
            dict(finding.metadata),
        ]
    )
    rule_id, scanner, title, location, location_data, message, evidence, fix, help_uri, controls, extra = (
        texts
    )
    return {
        "rule_id": rule_id[:300],
        "scanner": scanner[:100],
        "title": title,
        "severity": finding.severity.value,
        "severity_rank": finding.severity.rank,
        "confidence": finding.confidence.value,
        "location": location,
        "location_data": location_data,
        "message": message,
        "evidence": evidence,
        "fix": fix,
        "help_uri": help_uri,
        "cwe": list(finding.cwe),
        "controls": controls,
        "extra": extra,
        "published_at": _published(finding),
        "search_key": search_key(rule_id[:300], location, title),
    }


def stored_fingerprint(finding: Finding) -> str:
    """The fingerprint the store keys a finding by (scrubbed: an upload may put anything there)."""
    return str(scrub_tree(finding.fingerprint))[:128]


def _chunks(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), _CHUNK):
        yield rows[start : start + _CHUNK]


def ingest(
    store: Store,
    project_id: int,
    parsed: ParsedScan,
    actor: str,
    *,
    full: bool = True,
    now: datetime | None = None,
) -> IngestResult:
    """Record ``parsed`` as a new scan of the project and update every affected finding."""
    now = now or utcnow()
    with store.write() as session:
        session.execute(select(Project.id).where(Project.id == project_id).with_for_update()).one()
        expire_acceptances(session, now, project_id)
        scan = Scan(
            project_id=project_id,
            created_at=now,
            source_format=parsed.source_format,
            tool=str(scrub_tree(parsed.tool))[:200],
            scanners=scrub_tree(parsed.scanners),
            full=full,
            gaps=scrub_tree(parsed.coverage.describe()) if full else [],
            uploaded_by=actor[:200],
        )
        session.add(scan)
        session.flush()
        result = _apply(session, scan, parsed, actor, full, now)
        record_snapshot(session, project_id, now)
    return result


def _apply(
    session: Session, scan: Scan, parsed: ParsedScan, actor: str, full: bool, now: datetime
) -> IngestResult:
    incoming: dict[str, Finding] = {}
    for finding in parsed.findings:
        incoming.setdefault(stored_fingerprint(finding), finding)
    existing = session.execute(
        select(
            FindingRecord.id,
            FindingRecord.fingerprint,
            FindingRecord.status,
            FindingRecord.scanner,
            FindingRecord.rule_id,
            FindingRecord.location_data,
            FindingRecord.reopen_count,
        ).where(FindingRecord.project_id == scan.project_id)
    ).all()
    known = {row.fingerprint: row for row in existing}
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    reopened = 0
    for fingerprint, finding in incoming.items():
        row = known.get(fingerprint)
        columns = _describe(finding)
        if row is None:
            new_rows.append(
                {
                    **columns,
                    "project_id": scan.project_id,
                    "fingerprint": fingerprint,
                    "status": "open",
                    "first_seen": now,
                    "last_seen": now,
                    "reopen_count": 0,
                    "last_scan_id": scan.id,
                }
            )
            continue
        change = {**columns, "id": row.id, "last_seen": now, "last_scan_id": scan.id}
        if row.status == "fixed":
            change.update(status="open", fixed_at=None, reopen_count=row.reopen_count + 1)
            reopened += 1
            events.append(_event(now, actor, scan.project_id, row.id, "reopened", "fixed", "open", scan))
        updates.append(change)
    fixed_ids: list[int] = []
    if full:
        covered = set(scrub_tree(parsed.scanners))
        coverage = parsed.coverage
        for row in existing:
            if (
                row.fingerprint not in incoming
                and row.status in _FIXABLE
                and row.scanner in covered
                and coverage.covers(row.scanner, row.rule_id, row.location_data)
            ):
                fixed_ids.append(row.id)
                events.append(_event(now, actor, scan.project_id, row.id, "fixed", row.status, "fixed", scan))
    for chunk in _chunks(new_rows):
        created = session.execute(insert(FindingRecord).returning(FindingRecord.id), chunk).scalars().all()
        events.extend(
            _event(now, actor, scan.project_id, fid, "opened", None, "open", scan) for fid in created
        )
    for chunk in _chunks(updates):
        session.execute(update(FindingRecord), chunk)
    if fixed_ids:
        session.execute(
            update(FindingRecord), [{"id": i, "status": "fixed", "fixed_at": now} for i in fixed_ids]
        )
    for chunk in _chunks(events):
        session.execute(insert(AuditEvent), chunk)
    scan.finding_count = len(incoming)
    scan.new_count = len(new_rows)
    scan.fixed_count = len(fixed_ids)
    scan.reopened_count = reopened
    session.add(
        AuditEvent(
            at=now,
            actor=actor[:200],
            action="scan.uploaded",
            project_id=scan.project_id,
            reason=f"scan {scan.id}: {len(incoming)} findings, {len(new_rows)} new, "
            f"{reopened} reopened, {len(fixed_ids)} fixed"
            + (f"; {len(scan.gaps)} scopes not checked, nothing fixed there" if scan.gaps else ""),
        )
    )
    return IngestResult(
        scan.id,
        len(incoming),
        len(new_rows),
        reopened,
        len(fixed_ids),
        len(updates) - reopened,
        tuple(scan.gaps or ()),
    )


def _event(
    now: datetime,
    actor: str,
    project_id: int,
    finding_id: int,
    action: str,
    before: str | None,
    after: str,
    scan: Scan,
) -> dict[str, Any]:
    return {
        "at": now,
        "actor": actor[:200],
        "action": f"finding.{action}",
        "project_id": project_id,
        "finding_id": finding_id,
        "from_status": before,
        "to_status": after,
        "reason": f"scan {scan.id}",
    }
