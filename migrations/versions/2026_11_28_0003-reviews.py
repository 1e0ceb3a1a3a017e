"""Reviews: requests, revisions, resolved approvers per step, audit trail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.String(length=40), nullable=False),
        sa.Column("account_key", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("planned_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("link_url", sa.String(length=3000), nullable=True),
        sa.Column("feedback_wanted", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=True),
        sa.Column("message_ts", sa.String(length=40), nullable=True),
        sa.Column("created_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("waiting_since", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_reminder_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("escalated_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_request")),
    )
    with op.batch_alter_table("review_request", schema=None) as batch_op:
        batch_op.create_index("ix_review_request_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_review_request_decided_at", ["decided_at"], unique=False)
        batch_op.create_index("ix_review_request_requester_status", ["requester_id", "status"], unique=False)
        batch_op.create_index(
            "ix_review_request_status_next_reminder", ["status", "next_reminder_at"], unique=False
        )
    op.create_table(
        "review_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["review_request.id"], name=op.f("fk_review_revision_request_id_review_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_revision")),
        sa.UniqueConstraint("request_id", "number", name=op.f("uq_review_revision_request_id_number")),
    )
    op.create_table(
        "review_approver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["review_request.id"], name=op.f("fk_review_approver_request_id_review_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_approver")),
        sa.UniqueConstraint(
            "request_id", "step", "user_id", name=op.f("uq_review_approver_request_id_step_user_id")
        ),
    )
    with op.batch_alter_table("review_approver", schema=None) as batch_op:
        batch_op.create_index("ix_review_approver_user", ["user_id", "request_id"], unique=False)
    op.create_table(
        "review_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor_id", sa.String(length=40), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("what_works", sa.Text(), nullable=True),
        sa.Column("what_to_change", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["review_request.id"], name=op.f("fk_review_event_request_id_review_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_event")),
    )
    with op.batch_alter_table("review_event", schema=None) as batch_op:
        batch_op.create_index("ix_review_event_kind_created", ["kind", "created_at"], unique=False)
        batch_op.create_index("ix_review_event_request", ["request_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_event", schema=None) as batch_op:
        batch_op.drop_index("ix_review_event_request")
        batch_op.drop_index("ix_review_event_kind_created")

    op.drop_table("review_event")
    with op.batch_alter_table("review_approver", schema=None) as batch_op:
        batch_op.drop_index("ix_review_approver_user")

    op.drop_table("review_approver")
    op.drop_table("review_revision")
    with op.batch_alter_table("review_request", schema=None) as batch_op:
        batch_op.drop_index("ix_review_request_status_next_reminder")
        batch_op.drop_index("ix_review_request_requester_status")
        batch_op.drop_index("ix_review_request_decided_at")
        batch_op.drop_index("ix_review_request_created_at")

    op.drop_table("review_request")
