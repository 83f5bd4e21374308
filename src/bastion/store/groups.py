"""The findings list grouped: one row per vulnerable package version, or per rule.

Grouping by package reads the metadata every dependency finding carries, Bastion's own and
imported ones alike (``ecosystem``, ``package``, ``installed_version``, ``advisory``,
``fixed_versions``, ``smallest_fix``): urllib3 1.26.3 with six advisories is one row, its worst
severity, how many advisories, and the version that fixes them all as far as they say. Findings
without a package (code, secrets, IaC) are not in any package group. The key and the advisory
come from the finding's stored ``pkg_*`` columns (:mod:`bastion.store.package_key`), walked in
one index; only the fixed versions of the page's groups are read from the metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, tuple_
from sqlalchemy.orm import Session

from bastion.advisories.versions import sort_versions
from bastion.store.models import FindingRecord, utcnow
from bastion.store.queries import RANKS, FindingFilter, Page, filter_conditions
from bastion.store.sla import SlaPolicy

__all__ = [
    "GROUP_KEYS",
    "Group",
    "GroupPage",
    "group_condition",
    "group_findings",
    "group_members",
]

GROUP_KEYS: dict[str, tuple[str, ...]] = {"package": ("ecosystem", "package", "version"), "rule": ("rule",)}
"""The query parameters naming one group of each kind."""
_BY_RANK = {rank: name for name, rank in RANKS.items()}


def _package_columns() -> tuple[Any, Any, Any]:
    return (FindingRecord.pkg_ecosystem, FindingRecord.pkg_name, FindingRecord.pkg_version)


@dataclass(frozen=True)
class Group:
    """One row of the grouped list."""

    key: dict[str, str]
    """The parameters that select it: ecosystem, package and version, or rule."""
    findings: int
    """Matching findings in the group."""
    worst: str
    """Its worst severity."""
    advisories: int = 0
    """Distinct advisories (package groups)."""
    fixed_in: str | None = None
    """The smallest version fixing every advisory that names a fix (package groups)."""
    unfixed: int = 0
    """Advisories that name no fixed version (package groups)."""
    title: str = ""
    """A title of one of its findings (rule groups)."""
    statuses: dict[str, int] = field(default_factory=dict)
    """Matching findings by triage state."""


@dataclass(frozen=True)
class GroupPage:
    """One page of groups and how many groups match in all."""

    by: str
    groups: list[Group]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def group_condition(by: str, key: Mapping[str, str]) -> ColumnElement[bool]:
    """SQL condition selecting the findings of one group (``key`` as in :attr:`Group.key`)."""
    if by == "rule":
        return FindingRecord.rule_id == key.get("rule", "")
    if by != "package":
        raise ValueError(f"group by {by!r}: choose from {', '.join(GROUP_KEYS)}")
    ecosystem, package, version = _package_columns()
    return and_(
        package.is_not(None),
        package == key.get("package", ""),
        ecosystem == key.get("ecosystem", ""),
        version == key.get("version", ""),
    )


def group_findings(
    session: Session,
    filt: FindingFilter,
    by: str,
    sla: SlaPolicy | None = None,
    now: datetime | None = None,
) -> GroupPage:
    """The page ``filt.page`` of the groups of the findings matching ``filt``, worst first."""
    if by not in GROUP_KEYS:
        raise ValueError(f"group by {by!r}: choose from {', '.join(GROUP_KEYS)}")
    conditions = filter_conditions(filt, sla or SlaPolicy(), now or utcnow())
    per_page = min(max(filt.per_page, 1), 200)
    if by == "package":
        ecosystem, package, version = _package_columns()
        columns: list[Any] = [ecosystem, package, version]
        conditions.append(package.is_not(None))
    else:
        columns = [FindingRecord.rule_id]
    grouped, order = _grouped(by, conditions)
    ordered = grouped.order_by(*order).limit(per_page)
    page = max(filt.page, 1)
    rows = session.execute(ordered.offset((page - 1) * per_page)).all()
    if not rows and page > 1:  # past the last page: show the last one, as the findings list does
        total = int(session.scalar(select(func.count()).select_from(grouped.subquery())) or 0)
        page = max(1, -(-total // per_page))
        rows = session.execute(ordered.offset((page - 1) * per_page)).all()
    if not rows:
        return GroupPage(by, [], 0, page, per_page)
    total = int(rows[0][-1])
    keys = [dict(zip(GROUP_KEYS[by], (str(v) for v in row[: len(columns)]), strict=True)) for row in rows]
    statuses = _statuses(session, conditions, by, columns, keys)
    fixes = _fixes(session, conditions, keys) if by == "package" else {}
    groups = []
    for key, row in zip(keys, rows, strict=True):
        ident = tuple(key.values())
        findings, rank, extra = row[len(columns)], row[len(columns) + 1], row[len(columns) + 2]
        common: dict[str, Any] = {
            "key": key,
            "findings": int(findings),
            "worst": _BY_RANK.get(int(rank), "info"),
            "statuses": statuses.get(ident, {}),
        }
        if by == "package":
            fixed_in, unfixed = fixes.get(ident, (None, 0))
            groups.append(Group(**common, advisories=int(extra), fixed_in=fixed_in, unfixed=unfixed))
        else:
            groups.append(Group(**common, title=str(extra or "")))
    return GroupPage(by, groups, total, page, per_page)


def _grouped(by: str, conditions: list[Any]) -> tuple[Select[Any], list[Any]]:
    """The grouped query (key columns, findings, worst rank, advisories or a title, and the number
    of groups) and its order, worst first."""
    rank = FindingRecord.severity_rank
    # The number of groups comes with the page (a window over the grouped rows): counting them
    # in a query of its own grouped every matching finding a second time.
    groups_total = func.count().over()
    if by == "package":
        ecosystem, package, version = _package_columns()
        # Per package version and advisory first, then per package version: both in the package
        # index's order (name first), which PostgreSQL and SQLite walk alone, aggregating as they
        # go. count(DISTINCT advisory) sorted every group's rows again; count(*), not count(id),
        # as the id is not in that index.
        inner = (
            select(ecosystem, package, version, FindingRecord.pkg_advisory, func.max(rank).label("worst"))
            .add_columns(func.count().label("found"))
            .where(*conditions)
            .group_by(package, ecosystem, version, FindingRecord.pkg_advisory)
            .subquery()
        )
        keys: list[Any] = [inner.c.pkg_ecosystem, inner.c.pkg_name, inner.c.pkg_version]
        worst: Any = func.max(inner.c.worst)
        count: Any = func.sum(inner.c.found)
        query = select(*keys, count, worst, func.count(inner.c.pkg_advisory), groups_total).group_by(
            inner.c.pkg_name, inner.c.pkg_ecosystem, inner.c.pkg_version
        )
    else:
        keys = [FindingRecord.rule_id]
        worst, count = func.max(rank), func.count()
        query = (
            select(*keys, count, worst, func.min(FindingRecord.title), groups_total)
            .where(*conditions)
            .group_by(*keys)
        )
    return query, [worst.desc(), count.desc(), *keys]


def _statuses(
    session: Session, conditions: list[Any], by: str, columns: list[Any], keys: list[dict[str, str]]
) -> dict[tuple[str, ...], dict[str, int]]:
    # Narrowed by the page's package names (or rules) alone, matched exactly here: an OR of
    # fifty three-part JSON conditions made the database evaluate 150 extractions per row.
    wanted = {tuple(k.values()) for k in keys}
    first = columns[1] if by == "package" else columns[0]
    names = sorted({k["package"] if by == "package" else k["rule"] for k in keys})
    query = (
        select(*columns, FindingRecord.status, func.count())
        .where(*conditions, first.in_(names))
        .group_by(*columns, FindingRecord.status)
    )
    result: dict[tuple[str, ...], dict[str, int]] = {}
    for row in session.execute(query).all():
        ident = tuple(str(v) for v in row[: len(columns)])
        if ident in wanted:
            result.setdefault(ident, {})[str(row[-2])] = int(row[-1])
    return result


def _fixes(
    session: Session, conditions: list[Any], keys: list[dict[str, str]]
) -> dict[tuple[str, ...], tuple[str | None, int]]:
    """Per package group: the version fixing every advisory with a known fix, and how many have none."""
    ecosystem, package, version = _package_columns()
    wanted = sorted({tuple(k.values()) for k in keys})
    # The page's groups exactly (not every version of their packages), and of the metadata only
    # the two values needed: parsing each finding's whole JSON was most of the page's time.
    query = select(
        ecosystem,
        package,
        version,
        FindingRecord.pkg_advisory,
        FindingRecord.extra["fixed_versions"],
        FindingRecord.extra["smallest_fix"],
    ).where(*conditions, package.is_not(None), tuple_(ecosystem, package, version).in_(wanted))
    smallest: dict[tuple[str, ...], set[str]] = {}
    advisories: dict[tuple[str, ...], dict[object, list[str]]] = {}
    for index, (eco, name, installed, advisory, listed, fix) in enumerate(session.execute(query)):
        ident: tuple[str, ...] = (str(eco), str(name), str(installed))
        if isinstance(fix, str) and fix:
            smallest.setdefault(ident, set()).add(fix)
        fixed = [v for v in listed if isinstance(v, str) and v] if isinstance(listed, list) else []
        # A finding naming no advisory counts as one of its own.
        advisories.setdefault(ident, {})[advisory or index] = fixed
    result: dict[tuple[str, ...], tuple[str | None, int]] = {}
    for ident, by_advisory in advisories.items():
        ecosystem_name, _, installed = ident
        unfixed = sum(1 for fixed in by_advisory.values() if not fixed)
        if ident in smallest:
            result[ident] = (sort_versions(ecosystem_name, smallest[ident])[-1], unfixed)
            continue
        needed = [_first_after(ecosystem_name, installed, fixed) for fixed in by_advisory.values() if fixed]
        result[ident] = (sort_versions(ecosystem_name, needed)[-1] if needed else None, unfixed)
    return result


def _first_after(ecosystem: str, installed: str, fixed: Sequence[str]) -> str:
    """The lowest of ``fixed`` above ``installed`` (the lowest listed when none is, or no order is known)."""
    ordered = sort_versions(ecosystem, [*fixed, installed]) if installed else sort_versions(ecosystem, fixed)
    if installed and installed in ordered:
        after = [v for v in ordered[ordered.index(installed) + 1 :] if v != installed]
        if after:
            return after[0]
    return sort_versions(ecosystem, fixed)[0]


def group_members(
    session: Session,
    filt: FindingFilter,
    by: str,
    key: Mapping[str, str],
    sla: SlaPolicy | None = None,
    now: datetime | None = None,
) -> Page:
    """The page ``filt.page`` of one group's findings matching ``filt``, worst first."""
    conditions = [*filter_conditions(filt, sla or SlaPolicy(), now or utcnow()), group_condition(by, key)]
    per_page = min(max(filt.per_page, 1), 200)
    total = int(session.scalar(select(func.count(FindingRecord.id)).where(*conditions)) or 0)
    page = min(max(filt.page, 1), max(1, -(-total // per_page)))
    query = (
        select(FindingRecord)
        .where(*conditions)
        .order_by(FindingRecord.severity_rank.desc(), FindingRecord.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(list(session.scalars(query)), total, page, per_page)
