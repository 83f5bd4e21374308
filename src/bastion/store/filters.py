"""Findings filters: one validated shape for the list, bulk triage, export and saved filters.

:class:`FilterQuery` is what a person means by "the current filter" (status, severity, scanner,
text, overdue, sort, grouping); :class:`SavedFilter` rows keep one under a name, per user,
optionally shared with the readers of one project.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from bastion.errors import InputError
from bastion.store.branches import branch_choice, repository_choice
from bastion.store.models import STATUSES, SavedFilter
from bastion.store.queries import BRANCH_STATUSES, SORTS, FindingFilter

__all__ = [
    "GROUPINGS",
    "MAX_FILTERS_PER_USER",
    "SEVERITIES",
    "FilterQuery",
    "delete_filter",
    "save_filter",
    "visible_filters",
]

SEVERITIES = ("critical", "high", "medium", "low", "info")
GROUPINGS = ("package", "rule")
"""Ways the findings list can be grouped (besides not at all)."""
MAX_FILTERS_PER_USER = 200
MAX_QUERY_CHARS = 200
MAX_PLACE_CHARS = 1000
PARAMETERS = (
    "status",
    "severity",
    "scanner",
    "q",
    "overdue",
    "sort",
    "order",
    "group",
    "repository",
    "branch",
    "branch_status",
)
"""The keys of a stored filter (and the URL parameters of the findings list)."""


@dataclass(frozen=True)
class FilterQuery:
    """A findings filter as people state it; every field optional, validated on creation."""

    statuses: tuple[str, ...] = ()
    """Triage states to show (none: every state)."""
    severities: tuple[str, ...] = ()
    """Severities to show (none: every severity)."""
    scanner: str = ""
    """One scanner's findings only."""
    q: str = ""
    """Text matched in rule id, location and title (case-insensitive)."""
    overdue: bool = False
    """Open findings past their SLA only."""
    sort: str = "severity"
    order: str = "desc"
    group: str = ""
    """``""``, ``package`` or ``rule``."""
    repository: str = ""
    """Findings seen in this repository only; ``-``: uploads that named none; "": any."""
    branch: str = ""
    """Findings seen on this branch only; ``-``: the default branch; "": any."""
    branch_status: str = ""
    """``open`` or ``fixed`` there; "": either."""

    def __post_init__(self) -> None:
        bad = [s for s in self.statuses if s not in STATUSES]
        if bad:
            raise InputError(f"status {bad[0]!r}: choose from {', '.join(STATUSES)}")
        bad = [s for s in self.severities if s not in SEVERITIES]
        if bad:
            raise InputError(f"severity {bad[0]!r}: choose from {', '.join(SEVERITIES)}")
        if self.sort not in SORTS:
            raise InputError(f"sort {self.sort!r}: choose from {', '.join(SORTS)}")
        if self.order not in ("asc", "desc"):
            raise InputError(f"order {self.order!r}: choose asc or desc")
        if self.group and self.group not in GROUPINGS:
            raise InputError(f"group {self.group!r}: choose from {', '.join(GROUPINGS)}")
        if len(self.q) > MAX_QUERY_CHARS:
            raise InputError(f"q: at most {MAX_QUERY_CHARS} characters")
        if len(self.scanner) > 100:
            raise InputError("scanner: at most 100 characters")
        for name, value in (("repository", self.repository), ("branch", self.branch)):
            if len(value) > MAX_PLACE_CHARS:
                raise InputError(f"{name}: at most {MAX_PLACE_CHARS} characters")
        if self.branch_status and self.branch_status not in BRANCH_STATUSES:
            raise InputError(
                f"branch_status {self.branch_status!r}: choose from {', '.join(BRANCH_STATUSES)}"
            )

    def finding_filter(
        self, project_ids: Sequence[int] | None, page: int = 1, per_page: int = 50
    ) -> FindingFilter:
        """The store query for this filter over ``project_ids`` (None: every project)."""
        return FindingFilter(
            project_ids,
            list(self.statuses),
            list(self.severities),
            self.scanner,
            self.q,
            self.overdue,
            self.sort,
            self.order != "asc",
            page,
            per_page,
            repository=repository_choice(self.repository),
            branch=branch_choice(self.branch),
            branch_status=self.branch_status,
        )

    def to_dict(self) -> dict[str, Any]:
        """The parameters that differ from the defaults, as stored and as URL parameters."""
        data: dict[str, Any] = {}
        if self.statuses:
            data["status"] = list(self.statuses)
        if self.severities:
            data["severity"] = list(self.severities)
        optional = (
            ("scanner", self.scanner, ""),
            ("q", self.q, ""),
            ("overdue", self.overdue, False),
            ("sort", self.sort, "severity"),
            ("order", self.order, "desc"),
            ("group", self.group, ""),
            ("repository", self.repository, ""),
            ("branch", self.branch, ""),
            ("branch_status", self.branch_status, ""),
        )
        data.update({key: value for key, value, default in optional if value != default})
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FilterQuery:
        """Read :meth:`to_dict`'s shape back; unknown keys or wrong types are an :class:`InputError`."""
        unknown = sorted(set(data) - set(PARAMETERS))
        if unknown:
            raise InputError(f"filter: unknown parameter {unknown[0]!r}")
        return cls(
            statuses=_strings(data.get("status", []), "status"),
            severities=_strings(data.get("severity", []), "severity"),
            scanner=_string(data.get("scanner", ""), "scanner"),
            q=_string(data.get("q", ""), "q"),
            overdue=_flag(data.get("overdue", False)),
            sort=_string(data.get("sort", "severity"), "sort"),
            order=_string(data.get("order", "desc"), "order"),
            group=_string(data.get("group", ""), "group"),
            repository=_string(data.get("repository", ""), "repository"),
            branch=_string(data.get("branch", ""), "branch"),
            branch_status=_string(data.get("branch_status", ""), "branch_status"),
        )


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"filter: {name} must be a list of strings")
    return tuple(dict.fromkeys(value))


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"filter: {name} must be a string")
    return value


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "1", "on"):
        return True
    if value in ("false", "0", "", "off"):
        return False
    raise InputError("filter: overdue must be true or false")


def save_filter(
    session: Session, user_id: int, name: str, project_id: int | None, shared: bool, query: FilterQuery
) -> SavedFilter:
    """Keep ``query`` under ``name`` for the user (replacing the user's filter of that name)."""
    name = " ".join(name.split())
    if not name:
        raise InputError("name: required")
    if len(name) > 100:
        raise InputError("name: at most 100 characters")
    if shared and project_id is None:
        raise InputError("shared: a filter is shared with one project; choose the project first")
    row = session.scalar(select(SavedFilter).where(SavedFilter.user_id == user_id, SavedFilter.name == name))
    if row is None:
        mine = session.scalars(select(SavedFilter.id).where(SavedFilter.user_id == user_id)).all()
        if len(mine) >= MAX_FILTERS_PER_USER:
            raise InputError(f"at most {MAX_FILTERS_PER_USER} saved filters per user: delete one first")
        row = SavedFilter(user_id=user_id, name=name)
        session.add(row)
    row.project_id = project_id
    row.shared = shared
    row.query = query.to_dict()
    session.flush()
    return row


def visible_filters(session: Session, user_id: int, readable: Sequence[int] | None) -> list[SavedFilter]:
    """The user's own filters and those shared with projects the user reads (None: all), by name."""
    shared: ColumnElement[bool] = SavedFilter.shared.is_(True)
    if readable is not None:
        shared = and_(shared, SavedFilter.project_id.in_(list(readable) or [-1]))
    query = select(SavedFilter).where(or_(SavedFilter.user_id == user_id, shared))
    return list(session.scalars(query.order_by(SavedFilter.name, SavedFilter.id)))


def delete_filter(session: Session, row: SavedFilter) -> None:
    """Remove a saved filter (the caller checked that it may)."""
    session.delete(row)
    session.flush()
