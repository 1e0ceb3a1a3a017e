"""Digests (exactly-once claims), nominated wins, per-user App Home state.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_ts", sa.String(length=40), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("posted_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_run")),
        sa.UniqueConstraint(
            "kind", "period", "channel_id", name=op.f("uq_digest_run_kind_period_channel_id")
        ),
    )
    op.create_table(
        "win",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("message_ts", sa.String(length=40), nullable=False),
        sa.Column("permalink", sa.String(length=3000), nullable=True),
        sa.Column("message_author", sa.String(length=40), nullable=True),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("kpi_key", sa.String(length=40), nullable=True),
        sa.Column("nominated_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_win")),
        sa.UniqueConstraint(
            "channel_id", "message_ts", "nominated_by", name=op.f("uq_win_channel_id_message_ts_nominated_by")
        ),
    )
    with op.batch_alter_table("win", schema=None) as batch_op:
        batch_op.create_index("ix_win_created_at", ["created_at"], unique=False)
    op.create_table(
        "user_state",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("away_until", sa.Date(), nullable=True),
        sa.Column("updated_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_state")),
    )


def downgrade() -> None:
    op.drop_table("user_state")
    with op.batch_alter_table("win", schema=None) as batch_op:
        batch_op.drop_index("ix_win_created_at")

    op.drop_table("win")
    op.drop_table("digest_run")
