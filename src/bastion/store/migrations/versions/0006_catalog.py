"""service catalog: products, versions, content-addressed artefacts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the ``catalog_*`` tables."""
    op.create_table(
        "catalog_products",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "catalog_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("catalog_products.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("product_id", "version", name="uq_catalog_versions_product_version"),
    )
    op.create_index("ix_catalog_versions_digest", "catalog_versions", ["digest"])
    op.create_table(
        "catalog_artefacts",
        sa.Column("digest", sa.String(80), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop the ``catalog_*`` tables."""
    op.drop_table("catalog_artefacts")
    op.drop_index("ix_catalog_versions_digest", "catalog_versions")
    op.drop_table("catalog_versions")
    op.drop_table("catalog_products")
