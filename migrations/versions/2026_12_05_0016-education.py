"""Managers learn and the monthly review remembers (issue 17): one welcome per manager
(``manager_welcome``) and the action items agreed on a monthly digest (``action_item``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "manager_welcome",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("welcomed_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_manager_welcome")),
    )
    op.create_table(
        "action_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_period", sa.String(length=7), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column("due_month", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("thread_ts", sa.String(length=40), nullable=False),
        sa.Column("message_ts", sa.String(length=40), nullable=True),
        sa.Column("done_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_item")),
    )
    op.create_index("ix_action_item_review", "action_item", ["review_period"], unique=False)
    op.create_index("ix_action_item_owner_status", "action_item", ["owner_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_action_item_owner_status", table_name="action_item")
    op.drop_index("ix_action_item_review", table_name="action_item")
    op.drop_table("action_item")
    op.drop_table("manager_welcome")
