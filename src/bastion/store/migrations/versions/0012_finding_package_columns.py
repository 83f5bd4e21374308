"""findings: stored package columns (ecosystem, name, version, advisory) and their index

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bastion.store.package_key import (
    ADVISORY_LEN,
    ECOSYSTEM_LEN,
    PACKAGE_LEN,
    VERSION_LEN,
    package_columns,
)

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 2000
"""Findings read and written per step of the backfill: memory stays bounded at any table size."""
_INDEX = "ix_findings_project_package"
_COLUMNS = [
    "project_id",
    "pkg_name",
    "pkg_ecosystem",
    "pkg_version",
    "pkg_advisory",
    "severity_rank",
    "status",
]


def upgrade() -> None:
    """Add the ``pkg_*`` columns, fill them for stored findings, and index them."""
    # Plain ADD COLUMN on both back ends (a batch on SQLite could rebuild the table and lose its
    # expression indexes); a constant default makes it instant on PostgreSQL at any size.
    op.add_column(
        "findings", sa.Column("pkg_ecosystem", sa.String(ECOSYSTEM_LEN), nullable=False, server_default="")
    )
    op.add_column("findings", sa.Column("pkg_name", sa.String(PACKAGE_LEN), nullable=True))
    op.add_column(
        "findings", sa.Column("pkg_version", sa.String(VERSION_LEN), nullable=False, server_default="")
    )
    op.add_column("findings", sa.Column("pkg_advisory", sa.String(ADVISORY_LEN), nullable=True))
    backfill(op.get_bind())
    op.create_index(
        _INDEX,
        "findings",
        _COLUMNS,
        postgresql_where=sa.text("pkg_name IS NOT NULL"),
        sqlite_where=sa.text("pkg_name IS NOT NULL"),
    )


def backfill(bind: sa.Connection, batch: int = BATCH) -> int:
    """Fill the package columns of every finding whose metadata names a package, ``batch``
    findings at a time in id order (keyset), with the rule ingest applies; returns how many."""
    findings = sa.table(
        "findings",
        sa.column("id", sa.Integer),
        sa.column("extra", sa.JSON),
        sa.column("pkg_ecosystem", sa.String),
        sa.column("pkg_name", sa.String),
        sa.column("pkg_version", sa.String),
        sa.column("pkg_advisory", sa.String),
    )
    # Findings without a "package" key keep the defaults (no package): only the others are read.
    named = findings.c.extra["package"].as_string().is_not(None)
    update = (
        findings.update()
        .where(findings.c.id == sa.bindparam("row_id"))
        .values(
            pkg_ecosystem=sa.bindparam("eco"),
            pkg_name=sa.bindparam("name"),
            pkg_version=sa.bindparam("ver"),
            pkg_advisory=sa.bindparam("adv"),
        )
    )
    last, done = 0, 0
    while True:
        rows = bind.execute(
            sa.select(findings.c.id, findings.c.extra)
            .where(findings.c.id > last, named)
            .order_by(findings.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return done
        values = []
        for row in rows:
            columns = package_columns(row.extra)
            if columns["pkg_name"] is not None:
                values.append(
                    {
                        "row_id": row.id,
                        "eco": columns["pkg_ecosystem"],
                        "name": columns["pkg_name"],
                        "ver": columns["pkg_version"],
                        "adv": columns["pkg_advisory"],
                    }
                )
        if values:
            bind.execute(update, values)
        done += len(values)
        last = rows[-1].id


def downgrade() -> None:
    """Drop the index and the columns."""
    op.drop_index(_INDEX, table_name="findings")
    for name in ("pkg_advisory", "pkg_version", "pkg_name", "pkg_ecosystem"):
        op.drop_column("findings", name)  # ALTER TABLE ... DROP COLUMN: SQLite >= 3.35 and PostgreSQL
