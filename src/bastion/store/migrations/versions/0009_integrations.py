"""integrations: tracker issues linked to findings, notifications sent

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``integration_issues`` and ``integration_notices``."""
    op.create_table(
        "integration_issues",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("finding_id", sa.Integer(), sa.ForeignKey("findings.id"), nullable=False),
        sa.Column("tracker", sa.String(100), nullable=False),
        sa.Column("external_key", sa.String(200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("finding_id", "tracker", name="uq_integration_issues_finding_tracker"),
        sa.UniqueConstraint("tracker", "external_key", name="uq_integration_issues_tracker_key"),
    )
    op.create_index("ix_integration_issues_project_id", "integration_issues", ["project_id"])
    op.create_table(
        "integration_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.UniqueConstraint("channel", "event_key", name="uq_integration_notices_channel_event"),
    )
    op.create_index("ix_integration_notices_project_id", "integration_notices", ["project_id"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index("ix_integration_notices_project_id", "integration_notices")
    op.drop_table("integration_notices")
    op.drop_index("ix_integration_issues_project_id", "integration_issues")
    op.drop_table("integration_issues")
