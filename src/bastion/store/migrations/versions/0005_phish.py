"""phishing exercises: keys, targets, campaigns, recipients, send log and tracked events

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _cascade(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete="CASCADE")


def upgrade() -> None:
    """Create the ``phish_*`` tables."""
    op.create_table(
        "phish_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "phish_targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("group_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("department", sa.String(200), nullable=False),
        sa.Column("manager", sa.String(200), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("group_name", "email", name="uq_phish_targets_group_email"),
    )
    op.create_table(
        "phish_campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("group_name", sa.String(100), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("attachment_name", sa.String(200), nullable=False),
        sa.Column("landing_kind", sa.String(20), nullable=False),
        sa.Column("landing_html", sa.Text(), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("launched_at", sa.DateTime(), nullable=True),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("purged_at", sa.DateTime(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
    )
    op.create_table(
        "phish_recipients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), _cascade("phish_campaigns"), nullable=False),
        sa.Column("token_id", sa.String(40), nullable=False, unique=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("department", sa.String(200), nullable=False),
        sa.Column("manager", sa.String(200), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("send_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=False),
    )
    op.create_index("ix_phish_recipients_campaign", "phish_recipients", ["campaign_id"])
    op.create_table(
        "phish_send_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), _cascade("phish_campaigns"), nullable=False),
        sa.Column("recipient_id", sa.Integer(), _cascade("phish_recipients"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
    )
    op.create_index("ix_phish_send_log_campaign", "phish_send_log", ["campaign_id"])
    op.create_table(
        "phish_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), _cascade("phish_campaigns"), nullable=False),
        sa.Column("recipient_id", sa.Integer(), _cascade("phish_recipients"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("user_agent", sa.String(500), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("delay_s", sa.Float(), nullable=True),
        sa.Column("prefetch", sa.Boolean(), nullable=False),
        sa.Column("cookie", sa.Boolean(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("via", sa.String(20), nullable=False),
    )
    op.create_index("ix_phish_events_campaign", "phish_events", ["campaign_id", "recipient_id"])


def downgrade() -> None:
    """Drop the ``phish_*`` tables."""
    op.drop_index("ix_phish_events_campaign", "phish_events")
    op.drop_table("phish_events")
    op.drop_index("ix_phish_send_log_campaign", "phish_send_log")
    op.drop_table("phish_send_log")
    op.drop_index("ix_phish_recipients_campaign", "phish_recipients")
    op.drop_table("phish_recipients")
    op.drop_table("phish_campaigns")
    op.drop_table("phish_targets")
    op.drop_table("phish_keys")
