"""A finding's state on each repository and branch it was scanned on.

A product (a :class:`~bastion.store.models.Project`) holds one finding per fingerprint, whatever
branch or tool reported it; :class:`~bastion.store.models.FindingBranch` rows say where it was
seen and whether it is still there. A full scan of one branch marks fixed only what that branch
had open and no longer reports (within what the scan checked, :mod:`bastion.store.coverage`); the
finding itself is open while any branch has it open and fixed once every branch it was seen on has
fixed it. Triage states (confirmed, false positive, accepted) stay on the finding.

Uploads that name no repository and no branch use the unnamed place ``("", "")``, as every finding
stored before branches were tracked does. A scan that names its place takes over what the unnamed
place held: a finding it reports moves its unnamed row to the scan's place, and one it checked and
no longer reports has its unnamed row fixed, so findings from before the upgrade neither stay open
for ever nor count twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from bastion.store import bulk
from bastion.store.lifecycle import record_snapshot
from bastion.store.models import (
    BRANCH_LEN,
    REPOSITORY_LEN,
    AuditEvent,
    FindingBranch,
    FindingRecord,
    Scan,
)
from bastion.store.sanitize import scrub

__all__ = [
    "FIXABLE",
    "UNNAMED",
    "UNNAMED_CHOICE",
    "BranchFix",
    "BranchRef",
    "BranchState",
    "Retired",
    "branch_choice",
    "branch_ref",
    "describe_states",
    "fix_candidates",
    "fix_on_branch",
    "places",
    "repository_choice",
    "retire_branch",
    "see_on_branch",
    "states_of",
]

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SCP = re.compile(r"^[^/@:]+@(?P<host>[^/:]+):(?P<path>.+)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
RECENT_SCANS = 5000
"""Scans :func:`places` reads (the findings page's choices): a bounded read at any history."""


@dataclass(frozen=True)
class BranchRef:
    """Where a scan looked: a repository and a branch ("" each when the upload did not say)."""

    repository: str = ""
    """``github.com/acme/shop`` (host and path, no scheme, credentials or ``.git``) or a name."""
    branch: str = ""
    """``main``, ``release/1.2``; "" for the default branch."""

    @property
    def named(self) -> bool:
        """Whether the upload named a repository or a branch (else it is the unnamed place)."""
        return bool(self.repository or self.branch)

    def label(self, with_repository: bool = True) -> str:
        """How a person reads it: ``main``, ``github.com/acme/shop@main``, ``default branch``."""
        branch = self.branch or "default branch"
        if with_repository and self.repository:
            return f"{self.repository}@{self.branch}" if self.branch else f"{self.repository} ({branch})"
        return branch


UNNAMED = BranchRef()


def _repository(value: str) -> str:
    """A repository URL or name as a stable key, with no credentials and no scheme."""
    text = _CONTROL.sub("", value).strip()
    scp = _SCP.match(text)
    if scp and not _SCHEME.match(text):
        text = f"{scp['host']}/{scp['path']}"  # git@github.com:acme/shop.git
    text = _SCHEME.sub("", text)
    authority, slash, path = text.partition("/")
    authority = authority.rpartition("@")[2]  # user:token@host: never kept
    text = (authority.lower() + slash + path).rstrip("/")
    text = text.removesuffix(".git").rstrip("/")
    return scrub(text)[:REPOSITORY_LEN]


def _branch(value: str) -> str:
    text = _CONTROL.sub("", value).strip().removeprefix("refs/heads/")
    return scrub(text)[:BRANCH_LEN]


def branch_ref(repository: str | None, branch: str | None) -> BranchRef:
    """The place an upload names, normalised: a URL loses its scheme, credentials and ``.git``,
    a branch its ``refs/heads/``, both any secret and control character; None is ""."""
    return BranchRef(_repository(repository or ""), _branch(branch or ""))


UNNAMED_CHOICE = "-"
"""How a filter (URL parameter, saved filter) names the unnamed repository or the default branch:
an empty value means any. git refuses ``-`` as a branch name."""


def repository_choice(value: str) -> str | None:
    """A filter's repository as stored (a URL normalised as uploads are); None: any."""
    if not value:
        return None
    return "" if value == UNNAMED_CHOICE else _repository(value)


def branch_choice(value: str) -> str | None:
    """A filter's branch as stored; None: any, "" the default branch."""
    if not value:
        return None
    return "" if value == UNNAMED_CHOICE else _branch(value)


def _at(ref: BranchRef) -> ColumnElement[bool]:
    return and_(FindingBranch.repository == ref.repository, FindingBranch.branch == ref.branch)


def _where(ref: BranchRef) -> ColumnElement[bool]:
    """Rows a scan of ``ref`` answers for: its own place, and the unnamed one when it is named."""
    return or_(_at(ref), _at(UNNAMED)) if ref.named else _at(ref)


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if bulk.supported(session):
        bulk.copy_rows(session, FindingBranch.__table__, rows)  # type: ignore[arg-type]
    else:
        session.execute(insert(FindingBranch), rows)


def see_on_branch(
    session: Session,
    project_id: int,
    ref: BranchRef,
    scan_id: int,
    known: Sequence[int],
    created: Sequence[int],
    now: datetime,
) -> int:
    """Record that a scan of ``ref`` reported findings ``known`` (stored before) and ``created``
    (stored by this scan); returns how many of them were fixed on ``ref`` and are open again.

    A known finding's unnamed row moves to ``ref`` when ``ref`` has none (merged into it when it
    has one). Runs inside the caller's transaction, which holds the project's lock."""
    fresh = {
        "project_id": project_id,
        "repository": ref.repository,
        "branch": ref.branch,
        "status": "open",
        "first_seen": now,
        "last_seen": now,
        "fixed_at": None,
        "last_scan_id": scan_id,
    }
    rows = [{**fresh, "finding_id": fid} for fid in created]
    if not known:
        _insert(session, rows)
        return 0
    again = _seen_again(session, ref, known)
    rows.extend({**fresh, "finding_id": fid} for fid in again.missing)
    seen = {"status": "open", "fixed_at": None, "last_seen": now, "last_scan_id": scan_id}
    if again.merged:
        session.execute(delete(FindingBranch).where(FindingBranch.id.in_(again.merged)))
    # Set-based: every row seen again takes the same values, so one UPDATE ... WHERE id IN (...)
    # a chunk (and one for the rows moved from the unnamed place), not one per row.
    for ids, place in ((again.kept, {}), (again.moved, {"repository": ref.repository, "branch": ref.branch})):
        if ids:
            session.execute(
                update(FindingBranch)
                .where(FindingBranch.id.in_(ids))
                .values(**seen, **place)
                .execution_options(synchronize_session=False)
            )
    if again.first_seen:
        session.execute(
            update(FindingBranch), [{"id": i, "first_seen": t} for i, t in again.first_seen.items()]
        )
    _insert(session, rows)
    return again.reopened


@dataclass
class _SeenAgain:
    """What a scan of one place changes on the rows of findings stored before."""

    kept: list[int] = field(default_factory=list)
    """Rows at the place, refreshed."""
    moved: list[int] = field(default_factory=list)
    """Unnamed rows that move to the place (it had none)."""
    merged: list[int] = field(default_factory=list)
    """Unnamed rows dropped: the place has its own row for the finding."""
    first_seen: dict[int, datetime] = field(default_factory=dict)
    """Rows at the place that take an earlier first sighting from a merged unnamed row."""
    missing: list[int] = field(default_factory=list)
    """Findings with no row to refresh (a row is created)."""
    reopened: int = 0
    """Rows that were fixed."""


def _seen_again(session: Session, ref: BranchRef, known: Sequence[int]) -> _SeenAgain:
    """Sort the rows of findings ``known`` (stored before) that a scan of ``ref`` reported."""
    existing: list[Any] = list(
        session.execute(
            select(
                FindingBranch.id,
                FindingBranch.finding_id,
                FindingBranch.repository,
                FindingBranch.branch,
                FindingBranch.status,
                FindingBranch.first_seen,
            ).where(FindingBranch.finding_id.in_(list(known)), _where(ref))
        ).all()
    )
    here: dict[int, Any] = {}
    unnamed: dict[int, Any] = {}
    for row in existing:
        same = (row.repository, row.branch) == (ref.repository, ref.branch)
        (here if same else unnamed)[row.finding_id] = row
    again = _SeenAgain()
    for fid in known:
        mine, old = here.get(fid), unnamed.get(fid)
        if mine is not None:
            again.kept.append(mine.id)
            if old is not None:
                again.merged.append(old.id)
                if old.first_seen < mine.first_seen:
                    again.first_seen[mine.id] = old.first_seen
        elif old is not None:
            mine = old
            again.moved.append(old.id)
        else:
            again.missing.append(fid)
            continue
        again.reopened += mine.status == "fixed"
    return again


def fix_candidates(
    session: Session, project_id: int, ref: BranchRef, scanners: Iterable[str], open_states: Sequence[str]
) -> list[Row[Any]]:
    """Rows at ``ref`` (and at the unnamed place when ``ref`` is named) of findings of ``scanners``
    that are open there, or whose finding is in one of ``open_states`` (reopened by hand after
    every branch fixed it: a scan that still does not report it fixes it again), by finding id:
    ``id`` (the row), ``finding_id``, ``fingerprint``, ``scanner``, ``rule_id``,
    ``location_data``, ``scope_root``."""
    return list(
        session.execute(
            select(
                FindingBranch.id,
                FindingBranch.finding_id,
                FindingRecord.fingerprint,
                FindingRecord.scanner,
                FindingRecord.rule_id,
                FindingRecord.location_data,
                FindingRecord.scope_root,
            )
            .join(FindingRecord, FindingRecord.id == FindingBranch.finding_id)
            .where(
                FindingBranch.project_id == project_id,
                or_(FindingBranch.status == "open", FindingRecord.status.in_(list(open_states))),
                _where(ref),
                FindingRecord.scanner.in_(list(scanners)),
            )
            .order_by(FindingBranch.finding_id, FindingBranch.id)
        ).all()
    )


@dataclass(frozen=True)
class BranchFix:
    """What :func:`fix_on_branch` changed."""

    findings: list[int]
    """Every finding of the rows given, by id: those no branch has open may be fixed."""
    changed: set[int]
    """Findings whose row was open and is fixed now."""
    still_open: set[int]
    """Findings open at another place (they stay open)."""


def fix_on_branch(session: Session, row_ids: Sequence[int], scan_id: int, now: datetime) -> BranchFix:
    """Mark fixed the rows among ``row_ids`` that are open, and say which of their findings are
    still open at another place."""
    rows = session.execute(
        select(FindingBranch.id, FindingBranch.finding_id, FindingBranch.status)
        .where(FindingBranch.id.in_(list(row_ids)))
        .order_by(FindingBranch.finding_id)
    ).all()
    opened = [r for r in rows if r.status == "open"]
    if opened:
        session.execute(
            update(FindingBranch),
            [{"id": r.id, "status": "fixed", "fixed_at": now, "last_scan_id": scan_id} for r in opened],
        )
    findings = list(dict.fromkeys(r.finding_id for r in rows))
    still_open = set(
        session.scalars(
            select(FindingBranch.finding_id)
            .where(FindingBranch.finding_id.in_(findings), FindingBranch.status == "open")
            .distinct()
        )
    )
    return BranchFix(findings, {r.finding_id for r in opened}, still_open)


@dataclass(frozen=True)
class BranchState:
    """A finding's state at one place, as the API and the finding page show it."""

    ref: BranchRef
    status: str
    first_seen: datetime
    last_seen: datetime
    fixed_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the API."""
        return {
            "repository": self.ref.repository,
            "branch": self.ref.branch,
            "status": self.status,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "fixed_at": self.fixed_at.isoformat() if self.fixed_at else None,
        }


def states_of(session: Session, finding_ids: Sequence[int]) -> dict[int, list[BranchState]]:
    """Each finding's places, open ones first, then by repository and branch."""
    rows = session.scalars(select(FindingBranch).where(FindingBranch.finding_id.in_(list(finding_ids)))).all()
    states: dict[int, list[BranchState]] = {fid: [] for fid in finding_ids}
    for row in sorted(rows, key=lambda r: (r.status != "open", r.repository, r.branch)):
        states.setdefault(row.finding_id, []).append(
            BranchState(
                BranchRef(row.repository, row.branch), row.status, row.first_seen, row.last_seen, row.fixed_at
            )
        )
    return states


def describe_states(states: Sequence[BranchState]) -> str:
    """One line: ``open on release/1.2, fixed on main`` (repositories named when there are
    several)."""
    several = len({s.ref.repository for s in states}) > 1
    parts = []
    for status in ("open", "fixed"):
        labels = [s.ref.label(several) for s in states if s.status == status]
        if labels:
            parts.append(f"{status} on {', '.join(labels)}")
    return ", ".join(parts)


def places(
    session: Session, project_ids: Sequence[int] | None, recent: int = RECENT_SCANS
) -> list[BranchRef]:
    """The places the projects' last ``recent`` scans looked at, by repository and branch (read
    from the scans, not the findings' rows; scans from before branches were tracked are unnamed)."""
    latest = select(
        func.coalesce(Scan.repository, "").label("repository"), func.coalesce(Scan.branch, "").label("branch")
    )
    if project_ids is not None:
        latest = latest.where(Scan.project_id.in_(list(project_ids)))
    scans = latest.order_by(Scan.id.desc()).limit(recent).subquery()
    query = select(scans.c.repository, scans.c.branch).distinct().order_by(scans.c.repository, scans.c.branch)
    return [BranchRef(r.repository, r.branch) for r in session.execute(query).all()]


FIXABLE = ("open", "confirmed", "risk_accepted")
"""Triage states a scan may turn into fixed (a false positive stays one)."""


@dataclass(frozen=True)
class Retired:
    """What retiring a branch changed."""

    rows: int
    """The branch's rows removed (one per finding seen there)."""
    fixed: list[int]
    """Findings fixed because no other branch has them open (by id)."""


def retire_branch(session: Session, project_id: int, ref: BranchRef, actor: str, now: datetime) -> Retired:
    """Forget ``ref`` in the project (a branch deleted or merged): its rows go, and a finding that
    no other branch has open is fixed, as a scan that no longer reports it would fix it. The
    caller holds the project's lock. One audit event for the branch, one per finding fixed."""
    rows = session.execute(
        select(FindingBranch.id, FindingBranch.finding_id).where(
            FindingBranch.project_id == project_id, _at(ref)
        )
    ).all()
    session.add(
        AuditEvent(
            at=now,
            actor=actor[:200],
            action="branch.retired",
            project_id=project_id,
            reason=f"{ref.label()}: {len(rows)} findings' rows removed",
        )
    )
    if not rows:
        session.flush()
        return Retired(0, [])
    findings = sorted({r.finding_id for r in rows})
    session.execute(delete(FindingBranch).where(FindingBranch.id.in_([r.id for r in rows])))
    still_open = set(
        session.scalars(
            select(FindingBranch.finding_id)
            .where(FindingBranch.finding_id.in_(findings), FindingBranch.status == "open")
            .distinct()
        )
    )
    done = session.execute(
        select(FindingRecord.id, FindingRecord.status).where(
            FindingRecord.id.in_([f for f in findings if f not in still_open]),
            FindingRecord.status.in_(FIXABLE),
        )
    ).all()
    if done:
        session.execute(
            update(FindingRecord), [{"id": r.id, "status": "fixed", "fixed_at": now} for r in done]
        )
        session.execute(
            insert(AuditEvent),
            [
                {
                    "at": now,
                    "actor": actor[:200],
                    "action": "finding.fixed",
                    "project_id": project_id,
                    "finding_id": r.id,
                    "from_status": r.status,
                    "to_status": "fixed",
                    "reason": f"branch {ref.label()} retired; open on no other branch",
                }
                for r in done
            ],
        )
    session.flush()
    record_snapshot(session, project_id, now)
    return Retired(len(rows), [r.id for r in done])
