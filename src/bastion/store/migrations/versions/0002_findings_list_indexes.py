"""findings list: search key column and indexes for the sorts the list offers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_INDEXES: dict[str, list[str | sa.TextClause]] = {
    "ix_findings_project_status_sev_seen": ["project_id", "status", "severity_rank", "first_seen"],
    "ix_findings_status_sev_seen": ["status", "severity_rank", "first_seen"],
    "ix_findings_project_rank": ["project_id", "severity_rank", "id"],
    "ix_findings_project_rank_seen": ["project_id", "severity_rank", "first_seen"],
    "ix_findings_project_status": ["project_id", "status", "id"],
    "ix_findings_project_title": ["project_id", sa.text("substr(title, 1, 100)"), "id"],
    "ix_findings_project_location": ["project_id", sa.text("substr(location, 1, 100)"), "id"],
    "ix_findings_project_first_seen": ["project_id", "first_seen", "id"],
    "ix_findings_project_last_seen": ["project_id", "last_seen", "id"],
    "ix_findings_project_search": ["project_id", "search_key"],
}


def upgrade() -> None:
    """Add ``findings.search_key`` (filled for existing rows) and the list's indexes."""
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("search_key", sa.String(length=400), nullable=False, server_default=""))
    findings = sa.table(
        "findings",
        sa.column("id", sa.Integer),
        sa.column("rule_id", sa.String),
        sa.column("location", sa.Text),
        sa.column("title", sa.Text),
        sa.column("search_key", sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(findings.c.id, findings.c.rule_id, findings.c.location, findings.c.title)
    ).all()
    updates = [
        {"row_id": r.id, "key": f"{r.rule_id}\x1f{r.location}\x1f{r.title}".lower()[:400]} for r in rows
    ]
    if updates:
        bind.execute(
            findings.update()
            .where(findings.c.id == sa.bindparam("row_id"))
            .values(search_key=sa.bindparam("key")),
            updates,
        )
    # The overdue filter reads status, severity and first seen: one covering index each way.
    with op.batch_alter_table("findings") as batch:
        batch.drop_index("ix_findings_project_status_sev")
        batch.drop_index("ix_findings_status_sev")
    for name, columns in _INDEXES.items():
        op.create_index(name, "findings", columns)
    if bind.dialect.name == "postgresql":
        _trigram_index(bind)


def _trigram_index(bind: sa.Connection) -> None:
    """On PostgreSQL, a trigram index answers the substring search; without the pg_trgm
    extension (not installed, or not allowed) the search still works, by a scan."""
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first()
    if available is None:
        return
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        bind.execute(
            sa.text("CREATE INDEX ix_findings_search_trgm ON findings USING gin (search_key gin_trgm_ops)")
        )
    except sa.exc.DBAPIError:
        savepoint.rollback()
    else:
        savepoint.commit()


def downgrade() -> None:
    """Drop the indexes and the column."""
    op.execute("DROP INDEX IF EXISTS ix_findings_search_trgm")
    for name in _INDEXES:
        op.drop_index(name, table_name="findings")
    op.create_index("ix_findings_project_status_sev", "findings", ["project_id", "status", "severity_rank"])
    op.create_index("ix_findings_status_sev", "findings", ["status", "severity_rank"])
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("search_key")
