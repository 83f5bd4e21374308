"""SQLAlchemy 2 ORM models of the platform store (SQLite or PostgreSQL, same schema).

Times are stored as UTC; :class:`UTCDateTime` hands back timezone-aware datetimes on both
back ends. The audit log is append-only: the ORM refuses to update or delete an
:class:`AuditEvent` and the migration adds database triggers that refuse it too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from bastion.store.package_key import ADVISORY_LEN, ECOSYSTEM_LEN, PACKAGE_LEN, VERSION_LEN

__all__ = [
    "BRANCH_LEN",
    "OPEN_STATUSES",
    "PACKAGE_INDEX_COLUMNS",
    "REPOSITORY_LEN",
    "ROLES",
    "STATUSES",
    "ApiToken",
    "AuditEvent",
    "Base",
    "DailyCount",
    "FindingBranch",
    "FindingComment",
    "FindingRecord",
    "LoginAttempts",
    "Membership",
    "Project",
    "SavedFilter",
    "Scan",
    "UTCDateTime",
    "User",
    "WebSession",
    "utcnow",
]

STATUSES = ("open", "confirmed", "false_positive", "risk_accepted", "fixed")
"""Lifecycle and triage states of a finding."""
OPEN_STATUSES = ("open", "confirmed")
"""States that count as open work (and can be overdue)."""
REPOSITORY_LEN = 300
BRANCH_LEN = 255
ROLES = ("viewer", "maintainer", "admin")
"""Per-project roles, weakest first."""
PACKAGE_INDEX_COLUMNS = (
    "project_id",
    "pkg_name",
    "pkg_ecosystem",
    "pkg_version",
    "pkg_advisory",
    "severity_rank",
    "status",
)
"""Grouping by package walks this index (findings with a package only), in group order, reading
all it needs from the index: the key, the advisory, the worst severity and the state."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, to the microsecond."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime stored as naive UTC and returned as aware UTC on every back end."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        """Convert to naive UTC before storing."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        """Attach UTC to what the database returns."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every store model."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class User(Base):
    """A person who signs in to the dashboard."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class Project(Base):
    """A codebase or service whose scans land in the store."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """A user's role in one project."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "project_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    role: Mapped[str] = mapped_column(String(20))
    user: Mapped[User] = relationship(back_populates="memberships")
    project: Mapped[Project] = relationship()


class ApiToken(Base):
    """A project-scoped API token; only a SHA-256 of its secret part is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    scopes: Mapped[list[Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    project: Mapped[Project] = relationship()


class WebSession(Base):
    """A signed-in dashboard session; the cookie holds the id, the row its SHA-256."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    user: Mapped[User] = relationship()


class Scan(Base):
    """One uploaded scan result."""

    __tablename__ = "scans"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source_format: Mapped[str] = mapped_column(String(20))
    tool: Mapped[str] = mapped_column(String(200))
    scanners: Mapped[list[Any]] = mapped_column()
    full: Mapped[bool] = mapped_column(Boolean, default=True)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    finding_count: Mapped[int] = mapped_column(Integer, default=0)
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    fixed_count: Mapped[int] = mapped_column(Integer, default=0)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    gaps: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True, default=None)
    """What the upload could not check (see :mod:`bastion.store.coverage`); findings there were
    not marked fixed. None for scans stored before this was recorded."""
    repository: Mapped[str | None] = mapped_column(String(REPOSITORY_LEN), nullable=True, default=None)
    """The repository scanned (``github.com/acme/shop``); "" when the upload did not say, None for
    scans stored before branches were tracked."""
    branch: Mapped[str | None] = mapped_column(String(BRANCH_LEN), nullable=True, default=None)
    """The branch scanned (``main``, ``release/1.2``); "" when the upload did not say (the default
    branch, as before branches were tracked), None for scans stored before then."""
    project: Mapped[Project] = relationship()


class FindingRecord(Base):
    """A finding tracked across scans, identified by (project, fingerprint)."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("project_id", "fingerprint"),
        Index("ix_findings_project_status_sev_seen", "project_id", "status", "severity_rank", "first_seen"),
        Index("ix_findings_status_sev_seen", "status", "severity_rank", "first_seen"),
        Index("ix_findings_project_rank", "project_id", "severity_rank", "id"),
        Index("ix_findings_project_first_seen", "project_id", "first_seen", "id"),
        Index("ix_findings_project_last_seen", "project_id", "last_seen", "id"),
        Index("ix_findings_project_search", "project_id", "search_key"),
        Index("ix_findings_project_rank_seen", "project_id", "severity_rank", "first_seen"),
        Index("ix_findings_project_status", "project_id", "status", "id"),
        Index("ix_findings_id_state", "id", "project_id", "status", "severity_rank"),
        Index("ix_findings_project_title", "project_id", text("substr(title, 1, 100)"), "id"),
        Index("ix_findings_project_location", "project_id", text("substr(location, 1, 100)"), "id"),
        Index(
            "ix_findings_project_package",
            *PACKAGE_INDEX_COLUMNS,
            postgresql_where=text("pkg_name IS NOT NULL"),
            sqlite_where=text("pkg_name IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    fingerprint: Mapped[str] = mapped_column(String(128))
    rule_id: Mapped[str] = mapped_column(String(300))
    scanner: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    search_key: Mapped[str] = mapped_column(String(400), default="")
    severity: Mapped[str] = mapped_column(String(10))
    severity_rank: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[str] = mapped_column(String(10))
    location: Mapped[str] = mapped_column(Text)
    location_data: Mapped[dict[str, Any]] = mapped_column()
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    fix: Mapped[str] = mapped_column(Text, default="")
    help_uri: Mapped[str] = mapped_column(Text, default="")
    cwe: Mapped[list[Any]] = mapped_column()
    controls: Mapped[list[Any]] = mapped_column()
    extra: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="open")
    first_seen: Mapped[datetime] = mapped_column()
    last_seen: Mapped[datetime] = mapped_column()
    fixed_at: Mapped[datetime | None] = mapped_column()
    published_at: Mapped[datetime | None] = mapped_column()
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    accepted_reason: Mapped[str | None] = mapped_column(Text)
    accepted_until: Mapped[datetime | None] = mapped_column()
    last_scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))
    scope_root: Mapped[str | None] = mapped_column(String(1000), nullable=True, default=None)
    """The scanned root (relative to the repository) of the last scan that reported the finding,
    which its ``location`` path is relative to; None when that upload did not say."""
    pkg_ecosystem: Mapped[str] = mapped_column(String(ECOSYSTEM_LEN), default="", server_default="")
    """The metadata's ``ecosystem`` ("" when none): see :mod:`bastion.store.package_key`."""
    # evaluates_none: a None is sent, not left out, so rows with and without a package have the
    # same keys and the ORM inserts a chunk in one multi-row statement (else one per run of keys).
    pkg_name: Mapped[str | None] = mapped_column(
        String(PACKAGE_LEN).evaluates_none(), nullable=True, default=None
    )
    """The metadata's ``package``; None for a finding about no package."""
    pkg_version: Mapped[str] = mapped_column(String(VERSION_LEN), default="", server_default="")
    """The metadata's ``installed_version`` ("" when none)."""
    pkg_advisory: Mapped[str | None] = mapped_column(
        String(ADVISORY_LEN).evaluates_none(), nullable=True, default=None
    )
    """The metadata's ``advisory`` (a package group counts its distinct advisories)."""
    project: Mapped[Project] = relationship()


class FindingBranch(Base):
    """A finding's state on one branch of one repository (:mod:`bastion.store.branches`).

    A full scan of a branch fixes only what that branch had open; the finding's own ``status``
    is open while any branch has it open and fixed once every branch it was seen on fixed it.
    ``repository`` and ``branch`` are "" for uploads that named neither (and for every finding
    stored before branches were tracked)."""

    __tablename__ = "finding_branches"
    __table_args__ = (
        UniqueConstraint("finding_id", "repository", "branch", name="uq_finding_branches_key"),
        Index("ix_finding_branches_place", "project_id", "repository", "branch", "status", "finding_id"),
        Index("ix_finding_branches_branch", "project_id", "branch", "finding_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    """The finding's project (denormalised: a branch's rows read without a join)."""
    repository: Mapped[str] = mapped_column(String(REPOSITORY_LEN), default="")
    branch: Mapped[str] = mapped_column(String(BRANCH_LEN), default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    """``open`` or ``fixed`` on this branch (triage states stay on the finding)."""
    first_seen: Mapped[datetime] = mapped_column()
    last_seen: Mapped[datetime] = mapped_column()
    fixed_at: Mapped[datetime | None] = mapped_column()
    last_scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))


class AuditEvent(Base):
    """One append-only record of who changed what, when and why."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_finding", "finding_id"), Index("ix_audit_project", "project_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")


class DailyCount(Base):
    """Open findings of one severity in one project at the end of a day (the trend chart)."""

    __tablename__ = "daily_counts"
    __table_args__ = (UniqueConstraint("project_id", "day", "severity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    day: Mapped[date] = mapped_column(Date)
    severity: Mapped[str] = mapped_column(String(10))
    open_count: Mapped[int] = mapped_column(Integer)


class LoginAttempts(Base):
    """Sign-in attempts counted for one key in the current window (:mod:`bastion.store.throttle`).

    Keys: ``pair:<account>|<address>``, ``site:<address>`` and ``known:<account>|<address>`` (an
    account that signed in from that address; ``window_start`` is when); ``<account>`` is a
    SHA-256 prefix of the name as typed, never the text."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_window", "window_start"),)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    window_start: Mapped[datetime] = mapped_column()
    count: Mapped[int] = mapped_column(Integer, default=0)


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or remove an audit event."""


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(*_: object) -> None:
    raise AuditLogIsAppendOnly("the audit log is append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(*_: object) -> None:
    raise AuditLogIsAppendOnly("the audit log is append-only")


class FindingComment(Base):
    """A note on a finding by someone who may triage it (kept as typed, shown escaped)."""

    __tablename__ = "finding_comments"
    __table_args__ = (Index("ix_finding_comments_finding", "finding_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    """The finding's project (denormalised so a project's comments read without a join)."""
    author: Mapped[str] = mapped_column(String(200))
    """The caller's name: a user name or ``token:NAME (PREFIX)``."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[str] = mapped_column(Text)
    """The text, with any secret the built-in rules find redacted; markdown is never rendered."""


class SavedFilter(Base):
    """A user's named findings filter, optionally shared with the members of one project."""

    __tablename__ = "saved_filters"
    __table_args__ = (
        UniqueConstraint("user_id", "name", name="uq_saved_filters_user_name"),
        Index("ix_saved_filters_project", "project_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    """The project the filter is about; None for every project the viewer can read."""
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    """Visible to every reader of ``project_id`` (only with a project)."""
    query: Mapped[dict[str, Any]] = mapped_column()
    """The filter's parameters: status, severity, scanner, q, overdue, sort, order, group."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    user: Mapped[User] = relationship()
    project: Mapped[Project | None] = relationship()
