"""alerts from detectors (identity, sigma, watch, respond) and the users/addresses they name

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``alerts`` and ``alert_subjects``."""
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("detector", sa.String(100), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("entity", sa.String(500), nullable=False),
        sa.Column("entity_kind", sa.String(20), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("techniques", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("received_by", sa.String(200), nullable=False),
        sa.Column("status_at", sa.DateTime(), nullable=True),
        sa.Column("status_by", sa.String(200), nullable=True),
        sa.UniqueConstraint("project_id", "fingerprint", name="uq_alerts_project_fingerprint"),
    )
    op.create_index("ix_alerts_project_time", "alerts", ["project_id", "window_end"])
    op.create_index("ix_alerts_detector", "alerts", ["detector"])
    op.create_table(
        "alert_subjects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.Column("display", sa.String(500), nullable=False),
    )
    op.create_index("ix_alert_subjects_alert_id", "alert_subjects", ["alert_id"])
    op.create_index("ix_alert_subjects_value", "alert_subjects", ["kind", "value"])


def downgrade() -> None:
    """Drop ``alert_subjects`` and ``alerts``."""
    op.drop_index("ix_alert_subjects_value", "alert_subjects")
    op.drop_index("ix_alert_subjects_alert_id", "alert_subjects")
    op.drop_table("alert_subjects")
    op.drop_index("ix_alerts_detector", "alerts")
    op.drop_index("ix_alerts_project_time", "alerts")
    op.drop_table("alerts")
