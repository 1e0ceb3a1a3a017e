"""Managers' participation: reactions and thread replies on the bot's posts, nudge settings and nudge claims.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "participation_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("message_ts", sa.String(length=40), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_mark")),
        sa.UniqueConstraint(
            "kind",
            "channel_id",
            "message_ts",
            "user_id",
            "item",
            name=op.f("uq_participation_mark_kind_channel_id_message_ts_user_id_item"),
        ),
    )
    op.create_index("ix_participation_mark_at", "participation_mark", ["at"], unique=False)
    op.create_index("ix_participation_mark_user_at", "participation_mark", ["user_id", "at"], unique=False)
    op.create_table(
        "participation_prefs",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("nudges_off", sa.Boolean(), nullable=False),
        sa.Column("remind_on", sa.Date(), nullable=True),
        sa.Column("updated_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_participation_prefs")),
    )
    op.create_table(
        "participation_nudge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("slot", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_nudge")),
        sa.UniqueConstraint("user_id", "slot", name=op.f("uq_participation_nudge_user_id_slot")),
    )
    op.create_index("ix_participation_nudge_user", "participation_nudge", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_participation_nudge_user", table_name="participation_nudge")
    op.drop_table("participation_nudge")
    op.drop_table("participation_prefs")
    op.drop_index("ix_participation_mark_user_at", table_name="participation_mark")
    op.drop_index("ix_participation_mark_at", table_name="participation_mark")
    op.drop_table("participation_mark")
