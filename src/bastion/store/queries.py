"""Read side of the store: the findings list, SLA status, trends and patch latency."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, literal_column, or_, select
from sqlalchemy.orm import Session

from bastion.store.models import OPEN_STATUSES, DailyCount, FindingBranch, FindingRecord, utcnow
from bastion.store.sla import SlaPolicy

__all__ = [
    "BRANCH_STATUSES",
    "SORTS",
    "FindingFilter",
    "LatencyStats",
    "Page",
    "list_findings",
    "open_counts",
    "overdue_clause",
    "patch_latency",
    "trend",
]

SEVERITIES = ("critical", "high", "medium", "low", "info")
SORTS: dict[str, Any] = {
    "severity": FindingRecord.severity_rank,
    "first_seen": FindingRecord.first_seen,
    "last_seen": FindingRecord.last_seen,
    # Text sorts use the first 100 characters, the expression the indexes are built on.
    "title": literal_column("substr(findings.title, 1, 100)"),
    "status": FindingRecord.status,
    "location": literal_column("substr(findings.location, 1, 100)"),
}
BRANCH_STATUSES = ("open", "fixed")
"""States a finding has on one branch (:mod:`bastion.store.branches`)."""
MAX_PER_PAGE = 200
RANKS = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
SEARCH_KEY_CHARS = 400
SMALL_RESULT = 2000
"""Up to this many matches, the page is sorted in Python from (id, key) pairs."""
COUNT_CAP = 10_000
"""Lists count exactly up to this many matches and say "more than" beyond (GitLab's API does the
same): an exact count reads every matching index entry, 0.5-1.7 s at a million findings."""


@dataclass
class FindingFilter:
    """What the findings list shows; every field optional."""

    project_ids: Sequence[int] | None = None
    statuses: Sequence[str] = ()
    severities: Sequence[str] = ()
    scanner: str = ""
    query: str = ""
    overdue: bool = False
    sort: str = "severity"
    descending: bool = True
    page: int = 1
    per_page: int = 50
    repository: str | None = None
    """Findings seen in this repository only ("": uploads that named none); None: any."""
    branch: str | None = None
    """Findings seen on this branch only ("": the default branch); None: any."""
    branch_status: str = ""
    """``open`` or ``fixed`` there (on any branch when neither is given); "": either."""


@dataclass
class Page:
    """One page of findings and the total matching the filter."""

    items: list[FindingRecord]
    total: int
    page: int
    per_page: int
    exact: bool = True
    """False when the count stopped at a cap: ``total`` is then a lower bound."""

    @property
    def pages(self) -> int:
        """Number of pages (at least 1); a lower bound when the total is not exact."""
        return max(1, -(-self.total // self.per_page), self.page + (0 if self.exact else 1))

    @property
    def has_next(self) -> bool:
        """Whether a page follows this one."""
        if self.exact:
            return self.page < self.pages
        return len(self.items) == self.per_page


def overdue_clause(sla: SlaPolicy, now: datetime) -> ColumnElement[bool]:
    """SQL condition: open, with a deadline, and past it."""
    parts = [
        and_(
            FindingRecord.severity_rank == RANKS[severity],
            FindingRecord.first_seen < now - timedelta(days=days),
        )
        for severity, days in sla.days.items()
        if severity in RANKS
    ]
    return and_(FindingRecord.status.in_(OPEN_STATUSES), or_(*parts) if parts else false())


def search_key(rule_id: str, location: str, title: str) -> str:
    """What the findings search matches: lower-cased rule, location and title, bounded so
    that an index over it stays within PostgreSQL's B-tree row limit."""
    return f"{rule_id}\x1f{location}\x1f{title}".lower()[:SEARCH_KEY_CHARS]


def filter_conditions(filt: FindingFilter, sla: SlaPolicy, now: datetime) -> list[ColumnElement[bool]]:
    """The SQL conditions of ``filt`` (the findings list, bulk triage, grouping and export share them)."""
    conditions: list[ColumnElement[bool]] = []
    if filt.project_ids is not None:
        conditions.append(FindingRecord.project_id.in_(list(filt.project_ids)))
    if filt.statuses:
        conditions.append(FindingRecord.status.in_(list(filt.statuses)))
    if filt.severities:
        ranks = [RANKS[s] for s in filt.severities if s in RANKS]
        conditions.append(FindingRecord.severity_rank.in_(ranks))
    if filt.scanner:
        conditions.append(FindingRecord.scanner == filt.scanner)
    if filt.query:
        text = filt.query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(FindingRecord.search_key.like(f"%{text}%", escape="\\"))
    if filt.overdue:
        conditions.append(overdue_clause(sla, now))
    place = branch_condition(filt)
    if place is not None:
        conditions.append(place)
    return conditions


def branch_condition(filt: FindingFilter) -> ColumnElement[bool] | None:
    """Findings with a branch row matching the filter's repository, branch and branch status
    (the branch rows' index answers it); None when the filter names none of them."""
    rows = branch_rows(filt)
    return None if rows is None else FindingRecord.id.in_(rows)


def branch_rows(filt: FindingFilter) -> Select[Any] | None:
    """The ids of the findings whose branch rows match the filter's place (a finding id may come
    more than once: one per matching row); None when the filter names no place."""
    if filt.repository is None and filt.branch is None and not filt.branch_status:
        return None
    rows = select(FindingBranch.finding_id)
    if filt.project_ids is not None:
        rows = rows.where(FindingBranch.project_id.in_(list(filt.project_ids)))
    if filt.repository is not None:
        rows = rows.where(FindingBranch.repository == filt.repository)
    if filt.branch is not None:
        rows = rows.where(FindingBranch.branch == filt.branch)
    if filt.branch_status:
        rows = rows.where(FindingBranch.status == filt.branch_status)
    return rows


def _only_place(filt: FindingFilter) -> bool:
    """Whether the filter narrows the findings by their project and place only: then the branch
    rows alone answer the count (a row's project is its finding's)."""
    return not (filt.statuses or filt.severities or filt.scanner or filt.query or filt.overdue)


def count_at_place(session: Session, rows: Select[Any], cap: int | None) -> int:
    """How many distinct findings ``rows`` (:func:`branch_rows`) name; with ``cap``, stops at
    ``cap + 1``. Read from the branch rows' index alone, in finding order, without the findings."""
    distinct = rows.group_by(FindingBranch.finding_id)
    if cap is not None:
        distinct = distinct.order_by(FindingBranch.finding_id).limit(cap + 1)
    return int(session.scalar(select(func.count()).select_from(distinct.subquery())) or 0)


def count_matching(session: Session, conditions: Sequence[ColumnElement[bool]], cap: int | None) -> int:
    """How many findings match; with ``cap``, stops reading at ``cap + 1`` matches."""
    if cap is None:
        return int(session.scalar(select(func.count(FindingRecord.id)).where(*conditions)) or 0)
    bounded = select(FindingRecord.id).where(*conditions).limit(cap + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(bounded)) or 0)


def _page_of_keyed(
    session: Session, keyed: list[Any], filt: FindingFilter, page: int, per_page: int, total: int
) -> Page:
    """The page out of every match's (id, sort key), ordered here."""
    keyed.sort(key=lambda row: (row[1] is not None, row[1], row[0]), reverse=filt.descending)
    offset = (page - 1) * per_page
    ids = [row[0] for row in keyed[offset : offset + per_page]]
    rows = {f.id: f for f in session.scalars(select(FindingRecord).where(FindingRecord.id.in_(ids)))}
    return Page([rows[i] for i in ids if i in rows], total, page, per_page)


def list_findings(
    session: Session,
    filt: FindingFilter,
    sla: SlaPolicy | None = None,
    now: datetime | None = None,
    count_cap: int | None = None,
) -> Page:
    """One page of the findings matching ``filt``, sorted, with the total count (exact, or, with
    ``count_cap``, exact up to the cap and marked inexact beyond it)."""
    sla = sla or SlaPolicy()
    now = now or utcnow()
    per_page = min(max(filt.per_page, 1), MAX_PER_PAGE)
    page = max(filt.page, 1)
    conditions = filter_conditions(filt, sla, now)
    column = SORTS.get(filt.sort, FindingRecord.severity_rank)
    if filt.query and count_cap is not None:
        # A text search has no index in any sort order: its matches come from one search-index
        # pass (pg_trgm or a scan). Read them once, with their sort keys, to count and to page,
        # instead of a count pass and a sorted pass.
        keyed = list(
            session.execute(select(FindingRecord.id, column).where(*conditions).limit(count_cap + 1))
        )
        if len(keyed) <= count_cap:
            total = len(keyed)
            page = min(page, max(1, -(-total // per_page)))
            return _page_of_keyed(session, keyed, filt, page, per_page, total)
    place = branch_rows(filt)
    if place is not None and _only_place(filt):
        total = count_at_place(session, place, count_cap)
    else:
        total = count_matching(session, conditions, count_cap)
    exact = count_cap is None or total <= count_cap
    if not exact and count_cap is not None:
        total = count_cap
    else:
        page = min(page, max(1, -(-total // per_page)))
    if total == 0:
        return Page([], 0, page, per_page)
    if exact and total <= SMALL_RESULT:
        # A selective filter: walking a sort index would visit most rows to find a few.
        # Read the matching ids (the filter's covering index answers that), then their sort
        # keys by primary key, order them here, and load only the page.
        matching = list(session.scalars(select(FindingRecord.id).where(*conditions)))
        keyed = list(
            session.execute(select(FindingRecord.id, column).where(FindingRecord.id.in_(matching))).all()
        )
        return _page_of_keyed(session, keyed, filt, page, per_page, total)
    offset = (page - 1) * per_page
    order = column.desc() if filt.descending else column.asc()
    tiebreak = FindingRecord.id.desc() if filt.descending else FindingRecord.id.asc()
    if place is not None:
        # A place filter skips most of the sort index's entries: walk it for ids only (with no
        # other filter, the index alone answers, each entry checked against the branch rows'
        # index), then read the page's rows by primary key, not every skipped finding's row.
        chosen = select(FindingRecord.id).where(*conditions).order_by(order, tiebreak)
        ids = list(session.scalars(chosen.limit(per_page).offset(offset)))
        rows = {f.id: f for f in session.scalars(select(FindingRecord).where(FindingRecord.id.in_(ids)))}
        return Page([rows[i] for i in ids if i in rows], int(total), page, per_page, exact)
    query = select(FindingRecord).where(*conditions).order_by(order, tiebreak).limit(per_page).offset(offset)
    items = session.scalars(query).all()
    found = [item for item in items if isinstance(item, FindingRecord)]
    return Page(found, int(total), page, per_page, exact)


def open_counts(
    session: Session, project_ids: Sequence[int] | None, sla: SlaPolicy, now: datetime | None = None
) -> dict[str, dict[str, int]]:
    """``{"open": {severity: n}, "overdue": {severity: n}}`` for the projects."""
    now = now or utcnow()
    result: dict[str, dict[str, int]] = {
        "open": dict.fromkeys(SEVERITIES, 0),
        "overdue": dict.fromkeys(SEVERITIES, 0),
    }
    for key, condition in (
        ("open", FindingRecord.status.in_(OPEN_STATUSES)),
        ("overdue", overdue_clause(sla, now)),
    ):
        query = select(FindingRecord.severity, func.count()).where(condition).group_by(FindingRecord.severity)
        if project_ids is not None:
            query = query.where(FindingRecord.project_id.in_(list(project_ids)))
        for severity, count in session.execute(query).all():
            result[key][severity] = int(count)
    return result


def trend(
    session: Session, project_ids: Sequence[int] | None, days: int = 30, today: date | None = None
) -> list[tuple[date, dict[str, int]]]:
    """Open findings by severity at the end of each of the last ``days`` days.

    A project without a snapshot on a day keeps its last known counts (carried forward).
    """
    today = today or utcnow().date()
    start = today - timedelta(days=days - 1)
    query = select(DailyCount).where(DailyCount.day <= today).order_by(DailyCount.day)
    if project_ids is not None:
        query = query.where(DailyCount.project_id.in_(list(project_ids)))
    latest: dict[tuple[int, str], int] = {}
    rows = session.scalars(query).all()
    by_day: dict[date, list[DailyCount]] = {}
    for row in rows:
        if row.day < start:
            latest[(row.project_id, row.severity)] = row.open_count
        else:
            by_day.setdefault(row.day, []).append(row)
    series: list[tuple[date, dict[str, int]]] = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        for row in by_day.get(day, []):
            latest[(row.project_id, row.severity)] = row.open_count
        totals = dict.fromkeys(SEVERITIES, 0)
        for (_, severity), count in latest.items():
            totals[severity] += count
        series.append((day, totals))
    return series


@dataclass
class LatencyStats:
    """Days from advisory publication (or first seen) to fixed."""

    count: int = 0
    median_days: float | None = None
    mean_days: float | None = None
    p90_days: float | None = None
    by_severity: dict[str, float] = field(default_factory=dict)
    by_month: list[tuple[str, float, int]] = field(default_factory=list)


def patch_latency(session: Session, project_ids: Sequence[int] | None) -> LatencyStats:
    """Patch latency of the fixed findings: overall, by severity (median) and by month fixed."""
    query = select(
        FindingRecord.severity, FindingRecord.first_seen, FindingRecord.published_at, FindingRecord.fixed_at
    ).where(FindingRecord.status == "fixed", FindingRecord.fixed_at.is_not(None))
    if project_ids is not None:
        query = query.where(FindingRecord.project_id.in_(list(project_ids)))
    samples: list[tuple[str, float, str]] = []
    for severity, first_seen, published, fixed in session.execute(query).all():
        if fixed is None:
            continue
        start = min(published, first_seen) if published else first_seen
        samples.append((severity, (fixed - start).total_seconds() / 86400, fixed.strftime("%Y-%m")))
    if not samples:
        return LatencyStats()
    values = sorted(s[1] for s in samples)
    stats = LatencyStats(
        count=len(values),
        median_days=statistics.median(values),
        mean_days=statistics.fmean(values),
        p90_days=values[min(len(values) - 1, int(0.9 * len(values)))],
    )
    for severity in SEVERITIES:
        chosen = [s[1] for s in samples if s[0] == severity]
        if chosen:
            stats.by_severity[severity] = statistics.median(chosen)
    for month in sorted({s[2] for s in samples}):
        chosen = [s[1] for s in samples if s[2] == month]
        stats.by_month.append((month, statistics.median(chosen), len(chosen)))
    return stats
