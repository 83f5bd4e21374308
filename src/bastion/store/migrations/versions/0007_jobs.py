"""scan jobs, their findings (unique per job and fingerprint) and the organisation's repositories

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``scan_jobs``, ``scan_job_findings`` and ``org_repos``."""
    op.create_table(
        "scan_jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("repo", sa.String(1000), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=True),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_scan_jobs_state", "scan_jobs", ["state"])
    op.create_table(
        "scan_job_findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.String(64), sa.ForeignKey("scan_jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fingerprint", sa.String(200), nullable=False),
        sa.Column("rule_id", sa.String(300), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.UniqueConstraint("job_id", "fingerprint"),
    )
    op.create_index("ix_scan_job_findings_job_id", "scan_job_findings", ["job_id"])
    op.create_table(
        "org_repos",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(1000), nullable=False, unique=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("every_s", sa.Integer(), nullable=True),
        sa.Column("next_due", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("org_repos")
    op.drop_index("ix_scan_job_findings_job_id", "scan_job_findings")
    op.drop_table("scan_job_findings")
    op.drop_index("ix_scan_jobs_state", "scan_jobs")
    op.drop_table("scan_jobs")
