"""finding_branches: a finding's state per repository and branch; scans name theirs

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_PLACE = "ix_finding_branches_place"
_BACKFILL = sa.text(
    "INSERT INTO finding_branches"
    " (finding_id, project_id, repository, branch, status, first_seen, last_seen, fixed_at, last_scan_id)"
    " SELECT id, project_id, '', '',"
    " CASE WHEN status = 'fixed' THEN 'fixed' ELSE 'open' END,"
    " first_seen, last_seen, CASE WHEN status = 'fixed' THEN fixed_at END, last_scan_id"
    " FROM findings ORDER BY id"
)
"""Every stored finding gets one row for the unnamed branch with its current state: fixed when it
is fixed, else open (a triaged finding was seen and not fixed). One statement, on the server."""


def upgrade() -> None:
    """Add ``scans.repository``/``scans.branch`` (None for older scans), create
    ``finding_branches`` and give every stored finding its row for the unnamed branch."""
    # Plain ADD COLUMN on both back ends: a batch on SQLite could rebuild the table.
    op.add_column("scans", sa.Column("repository", sa.String(300), nullable=True))
    op.add_column("scans", sa.Column("branch", sa.String(255), nullable=True))
    op.create_table(
        "finding_branches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("finding_id", sa.Integer(), sa.ForeignKey("findings.id"), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("repository", sa.String(300), nullable=False),
        sa.Column("branch", sa.String(255), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("fixed_at", sa.DateTime(), nullable=True),
        sa.Column("last_scan_id", sa.Integer(), sa.ForeignKey("scans.id"), nullable=True),
        sa.UniqueConstraint("finding_id", "repository", "branch", name="uq_finding_branches_key"),
    )
    op.execute(_BACKFILL)
    # Indexed after the fill: one sorted build instead of an update per inserted row.
    op.create_index(
        _PLACE, "finding_branches", ["project_id", "repository", "branch", "status", "finding_id"]
    )


def downgrade() -> None:
    """Drop the table and the scans' columns (each finding keeps its overall state)."""
    op.drop_index(_PLACE, table_name="finding_branches")
    op.drop_table("finding_branches")
    for name in ("branch", "repository"):
        op.drop_column("scans", name)  # ALTER TABLE ... DROP COLUMN: SQLite >= 3.35 and PostgreSQL
