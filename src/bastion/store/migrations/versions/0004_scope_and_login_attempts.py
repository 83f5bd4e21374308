"""findings.scope_root (what an upload's paths are relative to) and login_attempts (the sign-in
limiter's counters, shared by every server process)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``findings.scope_root`` (NULL for findings stored before) and ``login_attempts``."""
    # A plain ADD COLUMN on both back ends: SQLite's batch mode would rebuild the table and
    # lose its expression indexes.
    op.add_column("findings", sa.Column("scope_root", sa.String(1000), nullable=True))
    op.create_table(
        "login_attempts",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_login_attempts_window", "login_attempts", ["window_start"])


def downgrade() -> None:
    """Drop ``login_attempts`` and ``findings.scope_root``."""
    op.drop_index("ix_login_attempts_window", "login_attempts")
    op.drop_table("login_attempts")
    op.execute("ALTER TABLE findings DROP COLUMN scope_root")  # SQLite >= 3.35 and PostgreSQL
