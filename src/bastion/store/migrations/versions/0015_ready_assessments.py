"""ready_assessments: past readiness assessments, one per scope, audience and UTC day

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``ready_assessments`` (the dashboard's readiness trend; nothing to backfill)."""
    op.create_table(
        "ready_assessments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("audience_key", sa.String(64), nullable=False),
        sa.Column("audience_kind", sa.String(10), nullable=False),
        sa.Column("project_ids", sa.JSON(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("overall", sa.Float(), nullable=False),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.UniqueConstraint("scope", "audience_key", "day", name="uq_ready_assessments_day"),
    )
    op.create_index("ix_ready_assessments_day", "ready_assessments", ["day"])


def downgrade() -> None:
    """Drop the table (the kept assessments with it)."""
    op.drop_index("ix_ready_assessments_day", "ready_assessments")
    op.drop_table("ready_assessments")
