"""The metrics people ask of a findings store, computed in SQL on SQLite and PostgreSQL alike.

Every metric is one :class:`Metric`: a small table (named columns, rows of plain values) plus a
summary, so the dashboard draws it, the CSV writes it and the API returns it from the same
object. A metric with nothing to say is :attr:`Metric.empty`, which pages show as "no data yet"
rather than a zero that reads as a pass.

What each one counts:

- ``mttr``: mean days from first seen to fixed, over findings now fixed, by severity and by
  project (a finding fixed, reopened and fixed again counts from its first sighting).
- ``sla``: per week or month in which SLA deadlines fell, the share of those findings fixed on
  or before their deadline. A finding still open, risk-accepted or fixed late after its
  deadline counts as missed; false positives are left out; a severity without a deadline is
  not counted.
- ``age``: open findings (open, confirmed) by age since first seen, in the buckets 0-7, 8-30,
  31-90, 91-180 and over 180 days, by severity.
- ``burndown``: open findings per project at the end of each day of a window, from the daily
  snapshots the store records on every upload and triage (carried forward over quiet days).
- ``kev``: each finding flagged as known exploited (CISA KEV) by the scanner that reported it:
  days from when it was both open and listed (the later of first seen and the KEV date added)
  to fixed, or to now while not fixed; mean and max. False positives are left out.
- ``rules``: rules with open findings in the most projects (then the most findings).
- ``coverage``: for each project's last scan, which scanners ran, ran in part (a file or tool
  was skipped), were named but not checked, or did not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from bastion.store.models import OPEN_STATUSES, DailyCount, FindingRecord, Project, Scan, UTCDateTime, utcnow
from bastion.store.sla import SlaPolicy

__all__ = [
    "AGE_BUCKETS",
    "METRICS",
    "Metric",
    "age_histogram",
    "burndown",
    "kev_exposure",
    "mttr",
    "recurring_rules",
    "scanner_coverage",
    "sla_compliance",
]

SEVERITIES = ("critical", "high", "medium", "low", "info")
RANKS = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
AGE_BUCKETS = (("0-7", 0, 7), ("8-30", 8, 30), ("31-90", 31, 90), ("91-180", 91, 180), (">180", 181, None))
"""Label, first and last whole day of age of each bucket (None: no upper bound)."""
STANDARD_SCANNERS = ("secrets", "deps", "sast", "iac")
"""Scanners every coverage row shows, whether or not any scan named them."""
Period = Literal["week", "month"]
_Q = TypeVar("_Q")


@dataclass(frozen=True)
class Metric:
    """One metric as a table: what the chart draws, the CSV writes and the API returns."""

    name: str
    """The metric's name in URLs (``mttr``, ``sla``...)."""
    title: str
    """What it measures, in words."""
    columns: tuple[str, ...]
    """Names of the row fields, in order."""
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    """The values, one tuple per row, in the order of :attr:`columns`."""
    summary: dict[str, Any] = field(default_factory=dict)
    """Headline numbers (means, totals); None where there is nothing to compute from."""

    @property
    def empty(self) -> bool:
        """True when there is no data to show (the page says "no data yet")."""
        return not self.rows

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the API."""
        return {
            "metric": self.name,
            "title": self.title,
            "empty": self.empty,
            "columns": list(self.columns),
            "rows": self.records(),
            "summary": self.summary,
        }


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _at(value: datetime) -> ColumnElement[datetime]:
    """A timestamp parameter stored the way the columns are (naive UTC)."""
    return literal(value, UTCDateTime())


def _days(session: Session, end: Any, start: Any) -> ColumnElement[Any]:
    """Days (fractional) from ``start`` to ``end``, as SQL."""
    if _dialect(session) == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


def _shifted(session: Session, column: Any, days: int) -> ColumnElement[Any]:
    """``column`` plus ``days`` days, as SQL."""
    if _dialect(session) == "postgresql":
        shifted: ColumnElement[Any] = column + func.make_interval(0, 0, 0, days)
        return shifted
    return func.datetime(column, f"+{int(days)} days")


def _period_of(session: Session, column: ColumnElement[Any], period: Period) -> ColumnElement[str]:
    """The week (its Monday, ``2026-12-07``) or month (``2026-12``) holding ``column``, as SQL."""
    if _dialect(session) == "postgresql":
        if period == "week":
            return func.to_char(func.date_trunc("week", column), "YYYY-MM-DD")
        return func.to_char(column, "YYYY-MM")
    if period == "week":
        return func.date(column, "weekday 0", "-6 days")
    return func.strftime("%Y-%m", column)


def _in_projects(query: _Q, column: Any, project_ids: Sequence[int] | None) -> _Q:
    """``query`` limited to the projects (None: every project)."""
    if project_ids is None:
        return query
    return cast(_Q, cast(Select[Any], query).where(column.in_(list(project_ids))))


def _round(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def mttr(session: Session, project_ids: Sequence[int] | None) -> Metric:
    """Mean days from first seen to fixed, by severity and by project, over fixed findings.

    One pass over the fixed findings, summed per (project, severity); the means are weighted
    from those sums, so they equal an average over the findings themselves."""
    days = _days(session, FindingRecord.fixed_at, FindingRecord.first_seen)
    query = _in_projects(
        select(FindingRecord.project_id, FindingRecord.severity, func.count(), func.sum(days))
        .where(FindingRecord.status == "fixed", FindingRecord.fixed_at.is_not(None))
        .group_by(FindingRecord.project_id, FindingRecord.severity),
        FindingRecord.project_id,
        project_ids,
    )
    by_severity: dict[str, list[float]] = {}
    by_project: dict[int, list[float]] = {}
    for project_id, severity, count, total_days in session.execute(query).all():
        for acc in (by_severity.setdefault(severity, [0, 0.0]), by_project.setdefault(project_id, [0, 0.0])):
            acc[0] += int(count)
            acc[1] += float(total_days or 0)
    slugs = dict(
        session.execute(select(Project.id, Project.slug).where(Project.id.in_(list(by_project)))).all()
    )
    rows: list[tuple[Any, ...]] = [
        ("severity", sev, int(by_severity[sev][0]), _round(by_severity[sev][1] / by_severity[sev][0]))
        for sev in SEVERITIES
        if sev in by_severity
    ]
    projects = sorted(by_project.items(), key=lambda item: (-item[1][1] / item[1][0], slugs[item[0]]))
    rows.extend(("project", slugs[p], int(n), _round(total / n)) for p, (n, total) in projects)
    fixed = int(sum(n for n, _ in by_severity.values()))
    overall = sum(total for _, total in by_severity.values()) / fixed if fixed else None
    return Metric(
        "mttr",
        "Mean time to remediate (days from first seen to fixed)",
        ("group", "key", "fixed", "mean_days"),
        rows,
        {"fixed": fixed, "mean_days": _round(overall)},
    )


def _periods(start: date, end: date, period: Period) -> list[str]:
    """Every period label from the one holding ``start`` to the one holding ``end``."""
    labels: list[str] = []
    if period == "week":
        day = start - timedelta(days=start.weekday())
        while day <= end:
            labels.append(day.isoformat())
            day += timedelta(days=7)
        return labels
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


def sla_compliance(
    session: Session,
    project_ids: Sequence[int] | None,
    sla: SlaPolicy,
    period: Period = "month",
    count: int = 12,
    now: datetime | None = None,
) -> Metric:
    """Share of findings fixed within their SLA, per period in which their deadline fell.

    The last ``count`` periods up to now; a period in which no deadline fell has no share."""
    if period not in ("week", "month"):
        raise ValueError(f"period {period!r}: choose week or month")
    now = _now(now)
    first = now - (timedelta(weeks=count - 1) if period == "week" else timedelta(days=31 * (count - 1)))
    labels = _periods(first.date(), now.date(), period)[-count:]
    tally: dict[str, list[int]] = {label: [0, 0] for label in labels}
    window_start = _first_instant(labels[0], period, now)
    deadlines = [(RANKS[severity], days) for severity, days in sla.days.items() if severity in RANKS]
    if deadlines:
        rank = FindingRecord.severity_rank
        allowed = case(*((rank == r, d) for r, d in deadlines))
        due = case(*((rank == r, _shifted(session, FindingRecord.first_seen, d)) for r, d in deadlines))
        met = case(
            (
                and_(
                    FindingRecord.status == "fixed",
                    FindingRecord.fixed_at.is_not(None),
                    _days(session, FindingRecord.fixed_at, FindingRecord.first_seen) <= allowed,
                ),
                1,
            ),
            else_=0,
        )
        # A deadline fell in the window: per severity, first seen between its bounds.
        falls = or_(
            *(
                and_(
                    rank == r,
                    FindingRecord.first_seen <= now - timedelta(days=d),
                    FindingRecord.first_seen >= window_start - timedelta(days=d),
                )
                for r, d in deadlines
            )
        )
        inner = _in_projects(
            select(_period_of(session, due, period).label("period"), met.label("met")).where(
                falls, FindingRecord.status != "false_positive"
            ),
            FindingRecord.project_id,
            project_ids,
        ).subquery()
        query = select(inner.c.period, func.count(), func.sum(inner.c.met)).group_by(inner.c.period)
        for label, due_count, met_count in session.execute(query).all():
            if label in tally:
                tally[label][0] += int(due_count)
                tally[label][1] += int(met_count or 0)
    rows = [
        (label, due, met, due - met, _round(100.0 * met / due) if due else None)
        for label, (due, met) in tally.items()
    ]
    due_total = sum(r[1] for r in rows)
    met_total = sum(r[2] for r in rows)
    return Metric(
        "sla",
        f"SLA compliance per {period} (share of findings fixed by their deadline)",
        (period, "due", "met", "missed", "percent_met"),
        rows if due_total else [],
        {
            "period": period,
            "due": due_total,
            "met": met_total,
            "percent_met": _round(100.0 * met_total / due_total) if due_total else None,
            "policy": sla.describe(),
        },
    )


def _first_instant(label: str, period: Period, now: datetime) -> datetime:
    day = date.fromisoformat(label) if period == "week" else date(int(label[:4]), int(label[5:7]), 1)
    return datetime(day.year, day.month, day.day, tzinfo=now.tzinfo)


def age_histogram(session: Session, project_ids: Sequence[int] | None, now: datetime | None = None) -> Metric:
    """Open findings by age since first seen (whole days) and severity."""
    now = _now(now)
    whens = [
        (FindingRecord.first_seen > now - timedelta(days=last + 1), label)
        for label, _first, last in AGE_BUCKETS
        if last is not None
    ]
    bucket = case(*whens, else_=AGE_BUCKETS[-1][0])
    query = _in_projects(
        select(bucket, FindingRecord.severity, func.count())
        .where(FindingRecord.status.in_(OPEN_STATUSES))
        .group_by(bucket, FindingRecord.severity),
        FindingRecord.project_id,
        project_ids,
    )
    counts = {(label, sev): int(n) for label, sev, n in session.execute(query).all()}
    total = sum(counts.values())
    rows = [
        (
            label,
            *(counts.get((label, sev), 0) for sev in SEVERITIES),
            sum(counts.get((label, s), 0) for s in SEVERITIES),
        )
        for label, _first, _last in AGE_BUCKETS
    ]
    return Metric(
        "age",
        "Open findings by age (days since first seen)",
        ("age_days", *SEVERITIES, "total"),
        rows if total else [],
        {"open": total, "older_than_90_days": sum(r[-1] for r in rows[3:])},
    )


def burndown(
    session: Session, project_ids: Sequence[int] | None, days: int = 30, today: date | None = None
) -> Metric:
    """Open findings per project at the end of each of the last ``days`` days."""
    if days < 1:
        raise ValueError("days must be at least 1")
    today = today or utcnow().date()
    start = today - timedelta(days=days - 1)
    in_window = _in_projects(
        select(DailyCount.project_id, DailyCount.day, func.sum(DailyCount.open_count))
        .where(DailyCount.day >= start, DailyCount.day <= today)
        .group_by(DailyCount.project_id, DailyCount.day),
        DailyCount.project_id,
        project_ids,
    )
    last_before = _in_projects(
        select(DailyCount.project_id, func.max(DailyCount.day).label("day"))
        .where(DailyCount.day < start)
        .group_by(DailyCount.project_id),
        DailyCount.project_id,
        project_ids,
    ).subquery()
    carried = (
        select(DailyCount.project_id, func.sum(DailyCount.open_count))
        .join(
            last_before,
            and_(DailyCount.project_id == last_before.c.project_id, DailyCount.day == last_before.c.day),
        )
        .group_by(DailyCount.project_id)
    )
    latest: dict[int, int] = {int(p): int(n) for p, n in session.execute(carried).all()}
    by_day: dict[date, list[tuple[int, int]]] = {}
    for project_id, day, total in session.execute(in_window).all():
        by_day.setdefault(day, []).append((int(project_id), int(total)))
    known = set(latest) | {p for points in by_day.values() for p, _ in points}
    slugs = dict(session.execute(select(Project.id, Project.slug).where(Project.id.in_(known))).all())
    rows: list[tuple[Any, ...]] = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        latest.update(by_day.get(day, []))
        rows.extend(
            (day.isoformat(), slugs[project_id], latest[project_id])
            for project_id in sorted(latest, key=lambda p: slugs[p])
        )
    last_day = today.isoformat()
    return Metric(
        "burndown",
        f"Open findings per project, last {days} days",
        ("day", "project", "open"),
        rows,
        {
            "days": days,
            "projects": len(slugs),
            "open_now": sum(r[2] for r in rows if r[0] == last_day),
        },
    )


def kev_exposure(session: Session, project_ids: Sequence[int] | None, now: datetime | None = None) -> Metric:
    """Days each known-exploited finding was open while listed in KEV; mean and max."""
    now = _now(now)
    query = _in_projects(
        select(
            Project.slug,
            FindingRecord.id,
            FindingRecord.rule_id,
            FindingRecord.status,
            FindingRecord.first_seen,
            FindingRecord.fixed_at,
            FindingRecord.extra["kev_date_added"].as_string(),
        )
        .join(Project, Project.id == FindingRecord.project_id)
        .where(_kev_flagged(session), FindingRecord.status != "false_positive")
        .order_by(FindingRecord.id),
        FindingRecord.project_id,
        project_ids,
    )
    rows: list[tuple[Any, ...]] = []
    for slug, finding_id, rule_id, status, first_seen, fixed_at, added in session.execute(query).all():
        listed = _kev_date(added)
        start = first_seen if listed is None else max(first_seen, listed)
        end = fixed_at if status == "fixed" and fixed_at is not None else now
        exposed = max(0.0, (end - start).total_seconds() / 86400)
        rows.append(
            (
                slug,
                finding_id,
                rule_id,
                status,
                first_seen.date().isoformat(),
                listed.date().isoformat() if listed else "unknown",
                end.date().isoformat() if status == "fixed" else "",
                round(exposed, 1),
            )
        )
    values = [r[-1] for r in rows]
    return Metric(
        "kev",
        "Known exploited (KEV) exposure: days open while listed",
        ("project", "finding", "rule_id", "status", "first_seen", "kev_added", "fixed", "exposed_days"),
        rows,
        {
            "findings": len(rows),
            "still_open": sum(1 for r in rows if r[3] != "fixed"),
            "mean_days": _round(sum(values) / len(values)) if values else None,
            "max_days": max(values) if values else None,
        },
    )


def _kev_flagged(session: Session) -> ColumnElement[bool]:
    """SQL: the finding's ``extra.kev`` is JSON ``true`` (a scanner's flag, never a guess)."""
    flag: ColumnElement[bool]
    if _dialect(session) == "postgresql":
        flag = FindingRecord.extra["kev"].as_string() == "true"
    else:
        flag = func.json_type(FindingRecord.extra, "$.kev") == "true"
    return flag


def _kev_date(text: Any) -> datetime | None:
    """The KEV catalog's dateAdded (``2024-05-01``) as the start of that UTC day, or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=utcnow().tzinfo)


def recurring_rules(session: Session, project_ids: Sequence[int] | None, limit: int = 15) -> Metric:
    """Rules with open findings in the most projects, then with the most open findings."""
    projects = func.count(func.distinct(FindingRecord.project_id))
    findings = func.count()
    query = _in_projects(
        select(FindingRecord.rule_id, projects, findings, func.min(FindingRecord.title))
        .where(FindingRecord.status.in_(OPEN_STATUSES))
        .group_by(FindingRecord.rule_id)
        .order_by(projects.desc(), findings.desc(), FindingRecord.rule_id)
        .limit(limit),
        FindingRecord.project_id,
        project_ids,
    )
    rows = [(rule, int(p), int(n), str(title)[:200]) for rule, p, n, title in session.execute(query).all()]
    return Metric(
        "rules",
        "Top recurring rules (open findings across projects)",
        ("rule_id", "projects", "open_findings", "title"),
        rows,
        {"shown": len(rows), "limit": limit},
    )


def _coverage_cells(scan: Scan, names: Sequence[str]) -> list[str]:
    """``ran``, ``partial``, ``not checked`` or ``not run`` for each scanner name."""
    listed = {str(s) for s in scan.scanners or []}
    gaps = [g for g in scan.gaps or [] if isinstance(g, dict)]
    whole_run = any(
        g.get("scanner") is None and g.get("path") is None and not g.get("rule_prefix") for g in gaps
    )
    cells = []
    for name in names:
        mine = [g for g in gaps if g.get("scanner") == name]
        if name not in listed:
            cells.append("not run")
        elif whole_run or any(g.get("path") is None and not g.get("rule_prefix") for g in mine):
            cells.append("not checked")
        elif mine or any(g.get("scanner") is None for g in gaps):
            cells.append("partial")
        else:
            cells.append("ran")
    return cells


def scanner_coverage(session: Session, project_ids: Sequence[int] | None) -> Metric:
    """Which scanners ran on each project's last scan."""
    last = _in_projects(select(func.max(Scan.id)).group_by(Scan.project_id), Scan.project_id, project_ids)
    scans = session.execute(
        select(Project.slug, Scan).join(Project, Project.id == Scan.project_id).where(Scan.id.in_(last))
    ).all()
    extra = sorted({str(s) for _, scan in scans for s in scan.scanners or []} - set(STANDARD_SCANNERS))
    names = (*STANDARD_SCANNERS, *extra)
    rows = [
        (
            slug,
            scan.created_at.isoformat(timespec="seconds"),
            scan.tool,
            "full" if scan.full else "partial",
            *_coverage_cells(scan, names),
        )
        for slug, scan in sorted(scans, key=lambda r: r[0])
    ]
    ran = sum(1 for r in rows for cell in r[4:] if cell == "ran")
    return Metric(
        "coverage",
        "Scanner coverage of each project's last scan",
        ("project", "last_scan", "tool", "kind", *names),
        rows,
        {"projects": len(rows), "scanners": list(names), "cells_ran": ran, "cells": len(rows) * len(names)},
    )


METRICS = ("mttr", "sla", "age", "burndown", "kev", "rules", "coverage")
"""Every metric's name, in the order the page shows them."""
