"""scans: what each upload could not check (its coverage gaps)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``scans.gaps``: the scopes an upload did not check (JSON list, empty for older scans)."""
    with op.batch_alter_table("scans") as batch:
        batch.add_column(sa.Column("gaps", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop ``scans.gaps``."""
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("gaps")
