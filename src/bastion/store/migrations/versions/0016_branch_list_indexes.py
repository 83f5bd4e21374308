"""finding_branches and findings: indexes for the findings list filtered by branch

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 00:25:00
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_BRANCH = "ix_finding_branches_branch"
_STATE = "ix_findings_id_state"


def upgrade() -> None:
    """Index a branch's rows by finding without the repository (a filter naming only a branch
    reads one range, in finding order, and probes one finding's row), and findings' id with the
    state a list filters on (a branch's rows are checked against status and severity without
    reading the findings' rows)."""
    op.create_index(_BRANCH, "finding_branches", ["project_id", "branch", "finding_id", "status"])
    op.create_index(_STATE, "findings", ["id", "project_id", "status", "severity_rank"])


def downgrade() -> None:
    """Drop both indexes."""
    op.drop_index(_STATE, table_name="findings")
    op.drop_index(_BRANCH, table_name="finding_branches")
