"""ready_answers: the readiness questionnaire kept on the server

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``ready_answers`` (one row per answer given; history kept)."""
    op.create_table(
        "ready_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=True),
        sa.Column("question", sa.String(100), nullable=False),
        sa.Column("answer", sa.String(10), nullable=False),
        sa.Column("answered_by", sa.String(200), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_ready_answers_scope", "ready_answers", ["project_id", "question", "answered_at"])


def downgrade() -> None:
    """Drop the table."""
    op.drop_index("ix_ready_answers_scope", "ready_answers")
    op.drop_table("ready_answers")
