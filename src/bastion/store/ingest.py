"""Ingest an uploaded scan into the store and move every finding through its lifecycle.

A finding is identified by (project, fingerprint), whatever branch or tool reported it. A scan
names the repository and branch it looked at (:mod:`bastion.store.branches`) and marks the
findings it contains seen there (new ones opened, fixed ones reopened); a *full* scan also marks
fixed, on its branch, every finding of the scanners it covered that the branch had open and the
scan no longer contains, but only where the scan itself says it checked
(:mod:`bastion.store.coverage`): a skipped scanner, a crashed run or a file not checked fixes
nothing. A finding is fixed once no branch has it open. Each change of a finding's state is an
audit event. Every stored text is scrubbed of
secrets first (:mod:`bastion.store.sanitize`), whatever the upload claims to be.
An upload is written in short transactions of :data:`CHUNK` findings; each locks the project
(row lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and decides new/seen/reopened from the
state it reads under that lock, so concurrent uploads neither lose nor duplicate findings, and a
large upload never holds the write lock for long.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bastion.findings import Finding
from bastion.store import bulk
from bastion.store.branches import (
    FIXABLE,
    UNNAMED,
    BranchRef,
    fix_candidates,
    fix_on_branch,
    see_on_branch,
)
from bastion.store.coverage import Coverage
from bastion.store.db import Store
from bastion.store.lifecycle import expire_acceptances, record_snapshot
from bastion.store.models import AuditEvent, FindingRecord, Project, Scan, utcnow
from bastion.store.package_key import package_columns
from bastion.store.parse import ParsedScan
from bastion.store.queries import search_key
from bastion.store.sanitize import scrub_all, scrub_tree

__all__ = ["CHUNK", "IngestResult", "ingest", "stored_fingerprint"]

_FIXABLE = FIXABLE
CHUNK = 500
"""Findings written per transaction: small enough that other writers wait milliseconds."""


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
    scopes: tuple[dict[str, Any], ...] = ()
    """Where the scan said it looked (none: an older report, credited only with its own files)."""
    ref: BranchRef = UNNAMED
    """The repository and branch the scan named."""
    fixed_on_branch: int = 0
    """Findings the scan marked fixed on its branch (``fixed`` counts those now fixed everywhere)."""
    open_elsewhere: int = 0
    """Of ``fixed_on_branch``, those still open on another branch."""


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


def _texts(finding: Finding) -> list[Any]:
    """Every text of a finding that the store keeps, in :func:`_describe`'s order."""
    return [
        finding.rule_id,
        finding.scanner,
        finding.title,
        finding.location.describe(),
        list(finding.location.to_dict().values()),
        finding.message,
        finding.evidence,
        finding.fix,
        finding.help_uri,
        list(finding.controls),
        dict(finding.metadata),
    ]


def _describe_all(findings: list[Finding], coverage: Coverage) -> list[dict[str, Any]]:
    """The columns of each finding, every text scrubbed (one search for the whole chunk), with
    the root its path is relative to when the upload said (else that column is left out)."""
    described = []
    for finding, texts in zip(findings, scrub_all([_texts(f) for f in findings]), strict=True):
        columns = _describe(finding, texts)
        scope = coverage.scope_for(finding.scanner)
        if scope is not None:
            columns["scope_root"] = scope.root
        described.append(columns)
    return described


def _describe(finding: Finding, texts: list[Any]) -> dict[str, Any]:
    """The columns a newer scan refreshes on a finding it sees again, from its scrubbed texts."""
    rule_id, scanner, title, location, place, message, evidence, fix, help_uri, controls, extra = texts
    # Location's keys are its own field names (an upload cannot add one): only values need scrubbing.
    location_data = dict(zip(finding.location.to_dict(), place, strict=True))
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
        **package_columns(extra),
    }


def stored_fingerprint(finding: Finding) -> str:
    """The fingerprint the store keys a finding by (scrubbed: an upload may put anything there)."""
    return str(scrub_tree(finding.fingerprint))[:128]


def _stored_fingerprints(findings: list[Finding], chunk: int) -> list[str]:
    out: list[str] = []
    for start in range(0, len(findings), chunk):
        part = [f.fingerprint for f in findings[start : start + chunk]]
        out.extend(str(value)[:128] for value in scrub_all(part))
    return out


def _lock(session: Session, project_id: int) -> None:
    session.execute(select(Project.id).where(Project.id == project_id).with_for_update()).one()


@dataclass
class _Tally:
    new: int = 0
    reopened: int = 0
    updated: int = 0
    fixed: int = 0
    fixed_on_branch: int = 0
    open_elsewhere: int = 0


def ingest(
    store: Store,
    project_id: int,
    parsed: ParsedScan,
    actor: str,
    *,
    full: bool = True,
    now: datetime | None = None,
    chunk: int = CHUNK,
    ref: BranchRef = UNNAMED,
) -> IngestResult:
    """Record ``parsed`` as a new scan of the project at ``ref`` (a repository and branch) and
    update every affected finding.

    The work is done in short transactions of at most ``chunk`` findings each (the project row
    locked in each), so a large upload never holds the database's write lock for long: a triage
    elsewhere waits for one chunk, not for the whole upload. Findings are scrubbed before a
    transaction begins. Fixes come last, so an upload cut short fixes nothing."""
    now = now or utcnow()
    actor = actor[:200]
    incoming: dict[str, Finding] = {}
    for fingerprint, finding in zip(
        _stored_fingerprints(parsed.findings, chunk), parsed.findings, strict=True
    ):
        incoming.setdefault(fingerprint, finding)
    with store.write() as session:
        _lock(session, project_id)
        expire_acceptances(session, now, project_id)
        scan = Scan(
            project_id=project_id,
            created_at=now,
            source_format=parsed.source_format,
            tool=str(scrub_tree(parsed.tool))[:200],
            scanners=scrub_tree(parsed.scanners),
            full=full,
            gaps=scrub_tree(parsed.coverage.describe()) if full else [],
            uploaded_by=actor,
            repository=ref.repository,
            branch=ref.branch,
        )
        session.add(scan)
        session.flush()
        scan_id = scan.id
    tally = _Tally()
    items = list(incoming.items())
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        columns = _describe_all([f for _, f in part], parsed.coverage)
        described = list(zip([fp for fp, _ in part], columns, strict=True))
        with store.write() as session:
            _lock(session, project_id)
            _see(session, project_id, scan_id, ref, described, actor, now, tally)
    if full:
        _fix(store, project_id, scan_id, ref, parsed, set(incoming), actor, now, chunk, tally)
    with store.write() as session:
        _lock(session, project_id)
        scan = session.get_one(Scan, scan_id)
        scan.finding_count = len(incoming)
        scan.new_count = tally.new
        scan.fixed_count = tally.fixed
        scan.reopened_count = tally.reopened
        gaps = list(scan.gaps or ())
        session.add(
            AuditEvent(
                at=now,
                actor=actor,
                action="scan.uploaded",
                project_id=project_id,
                reason=_summary(scan_id, ref, len(incoming), tally)
                + (f"; {len(gaps)} scopes not checked, nothing fixed there" if gaps else ""),
            )
        )
        record_snapshot(session, project_id, now)
    return IngestResult(
        scan_id,
        len(incoming),
        tally.new,
        tally.reopened,
        tally.fixed,
        tally.updated - tally.reopened,
        tuple(gaps),
        tuple(scrub_tree([scope.describe() for scope in parsed.coverage.scopes])),
        ref,
        tally.fixed_on_branch,
        tally.open_elsewhere,
    )


def _summary(scan_id: int, ref: BranchRef, findings: int, tally: _Tally) -> str:
    """The upload's audit line: ``scan 7 of main: 12 findings, 1 new, 0 reopened, 2 fixed``."""
    where = f" of {ref.label()}" if ref.named else ""
    text = (
        f"scan {scan_id}{where}: {findings} findings, {tally.new} new, "
        f"{tally.reopened} reopened, {tally.fixed} fixed"
    )
    if tally.open_elsewhere:
        text += f" ({tally.fixed_on_branch} fixed here, {tally.open_elsewhere} still open on another branch)"
    return text


def _see(
    session: Session,
    project_id: int,
    scan_id: int,
    ref: BranchRef,
    described: list[tuple[str, dict[str, Any]]],
    actor: str,
    now: datetime,
    tally: _Tally,
) -> None:
    """Open, refresh or reopen one chunk of the upload's findings (inside its transaction)."""
    fingerprints = [fingerprint for fingerprint, _ in described]
    copy = bulk.supported(session)
    rows: Sequence[Any]
    if copy:
        rows = bulk.lookup(session, project_id, fingerprints)
    else:
        rows = session.execute(
            select(
                FindingRecord.id, FindingRecord.fingerprint, FindingRecord.status, FindingRecord.reopen_count
            ).where(FindingRecord.project_id == project_id, FindingRecord.fingerprint.in_(fingerprints))
        ).all()
    known = {row.fingerprint: row for row in rows}
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for fingerprint, columns in described:
        row = known.get(fingerprint)
        if row is None:
            new_rows.append(
                {
                    **columns,
                    "project_id": project_id,
                    "fingerprint": fingerprint,
                    "status": "open",
                    "first_seen": now,
                    "last_seen": now,
                    "reopen_count": 0,
                    "last_scan_id": scan_id,
                    "scope_root": columns.get("scope_root"),
                }
            )
            continue
        change = {**columns, "id": row.id, "last_seen": now, "last_scan_id": scan_id}
        if row.status == "fixed":
            change.update(status="open", fixed_at=None, reopen_count=row.reopen_count + 1)
            tally.reopened += 1
            events.append(_event(now, actor, project_id, row.id, "reopened", "fixed", "open", scan_id))
        updates.append(change)
    if new_rows:
        if copy:
            created = bulk.insert_findings(session, project_id, new_rows)
        else:
            created = list(
                session.execute(insert(FindingRecord).returning(FindingRecord.id), new_rows).scalars()
            )
        events.extend(_event(now, actor, project_id, fid, "opened", None, "open", scan_id) for fid in created)
    else:
        created = []
    see_on_branch(session, project_id, ref, scan_id, [change["id"] for change in updates], created, now)
    # One statement per set of columns: a finding whose upload named no root keeps the one it had.
    for rooted in (True, False):
        same = [change for change in updates if ("scope_root" in change) is rooted]
        if same:
            session.execute(update(FindingRecord), same)
    if events and copy:
        bulk.insert_events(session, events)
    elif events:
        session.execute(insert(AuditEvent), events)
    tally.new += len(new_rows)
    tally.updated += len(updates)


def _fix(
    store: Store,
    project_id: int,
    scan_id: int,
    ref: BranchRef,
    parsed: ParsedScan,
    seen: set[str],
    actor: str,
    now: datetime,
    chunk: int,
    tally: _Tally,
) -> None:
    """Mark fixed on ``ref`` what the upload checked and no longer holds, a chunk of rows per
    transaction; a finding no branch has open any more is fixed (when its triage state allows)."""
    covered = set(scrub_tree(parsed.scanners))
    coverage = parsed.coverage
    if not covered or not coverage.complete:
        return
    with store.read() as session:
        candidates = fix_candidates(session, project_id, ref, covered, _FIXABLE)
    ids = [
        row.id
        for row in candidates
        if row.fingerprint not in seen
        and coverage.covers(row.scanner, row.rule_id, row.location_data, row.scope_root)
    ]
    del candidates
    for start in range(0, len(ids), chunk):
        with store.write() as session:
            _lock(session, project_id)
            fix = fix_on_branch(session, ids[start : start + chunk], scan_id, now)
            tally.fixed_on_branch += len(fix.changed)
            tally.open_elsewhere += len(fix.changed & fix.still_open)
            done = [fid for fid in fix.findings if fid not in fix.still_open]
            rows = session.execute(
                select(FindingRecord.id, FindingRecord.status)
                .where(FindingRecord.id.in_(done), FindingRecord.status.in_(_FIXABLE))
                .order_by(FindingRecord.id)
            ).all()
            if not rows:
                continue
            session.execute(
                update(FindingRecord), [{"id": r.id, "status": "fixed", "fixed_at": now} for r in rows]
            )
            events = [_event(now, actor, project_id, r.id, "fixed", r.status, "fixed", scan_id) for r in rows]
            if bulk.supported(session):
                bulk.insert_events(session, events)
            else:
                session.execute(insert(AuditEvent), events)
            tally.fixed += len(rows)


def _event(
    now: datetime,
    actor: str,
    project_id: int,
    finding_id: int,
    action: str,
    before: str | None,
    after: str,
    scan_id: int,
) -> dict[str, Any]:
    return {
        "at": now,
        "actor": actor[:200],
        "action": f"finding.{action}",
        "project_id": project_id,
        "finding_id": finding_id,
        "from_status": before,
        "to_status": after,
        "reason": f"scan {scan_id}",
    }
