"""Milestones the bot detected by itself (records, streaks, the quarter's best post, round numbers):
one row each, which is also its claim (unique kind + subject + mark), and where it was announced.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("mark", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("previous", sa.Float(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("detected_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=True),
        sa.Column("message_ts", sa.String(length=40), nullable=True),
        sa.Column("announced_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone")),
        sa.UniqueConstraint("kind", "subject", "mark", name=op.f("uq_milestone_kind_subject_mark")),
    )
    op.create_index("ix_milestone_detected_at", "milestone", ["detected_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_milestone_detected_at", table_name="milestone")
    op.drop_table("milestone")
