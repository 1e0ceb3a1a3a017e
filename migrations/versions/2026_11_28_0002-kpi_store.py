"""KPI store: accounts, posts with metrics, metric history, KPI values and targets, collector runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_account")),
    )
    op.create_table(
        "account_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_key", sa.String(length=40), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("captured_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_key"], ["account.key"], name=op.f("fk_account_snapshot_account_key_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_snapshot")),
    )
    with op.batch_alter_table("account_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_snapshot_account_captured", ["account_key", "captured_at"], unique=False
        )
    op.create_table(
        "post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_key", sa.String(length=40), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("review_request_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=True),
        sa.Column("reach", sa.BigInteger(), nullable=True),
        sa.Column("engagements", sa.BigInteger(), nullable=True),
        sa.Column("likes", sa.BigInteger(), nullable=True),
        sa.Column("comments", sa.BigInteger(), nullable=True),
        sa.Column("shares", sa.BigInteger(), nullable=True),
        sa.Column("saves", sa.BigInteger(), nullable=True),
        sa.Column("clicks", sa.BigInteger(), nullable=True),
        sa.Column("video_views", sa.BigInteger(), nullable=True),
        sa.Column("metrics_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_key"], ["account.key"], name=op.f("fk_post_account_key_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post")),
        sa.UniqueConstraint("platform", "external_id", name=op.f("uq_post_platform_external_id")),
    )
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.create_index("ix_post_account_published", ["account_key", "published_at"], unique=False)
        batch_op.create_index("ix_post_published_at", ["published_at"], unique=False)
        batch_op.create_index("ix_post_review_request_id", ["review_request_id"], unique=False)
    op.create_table(
        "metric_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("captured_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=True),
        sa.Column("reach", sa.BigInteger(), nullable=True),
        sa.Column("engagements", sa.BigInteger(), nullable=True),
        sa.Column("likes", sa.BigInteger(), nullable=True),
        sa.Column("comments", sa.BigInteger(), nullable=True),
        sa.Column("shares", sa.BigInteger(), nullable=True),
        sa.Column("saves", sa.BigInteger(), nullable=True),
        sa.Column("clicks", sa.BigInteger(), nullable=True),
        sa.Column("video_views", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name=op.f("fk_metric_snapshot_post_id_post"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_snapshot")),
    )
    with op.batch_alter_table("metric_snapshot", schema=None) as batch_op:
        batch_op.create_index("ix_metric_snapshot_post_captured", ["post_id", "captured_at"], unique=False)
    op.create_table(
        "kpi_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi_key", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("recorded_by", sa.String(length=40), nullable=True),
        sa.Column("recorded_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_value")),
    )
    with op.batch_alter_table("kpi_value", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_value_kpi_month", ["kpi_key", "month", "day", "id"], unique=False)
    op.create_table(
        "kpi_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi_key", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(length=40), nullable=True),
        sa.Column("set_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_target")),
    )
    with op.batch_alter_table("kpi_target", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_target_kpi_month", ["kpi_key", "month", "id"], unique=False)
    op.create_table(
        "collector_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("started_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", bot.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("posts_updated", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collector_run")),
    )
    with op.batch_alter_table("collector_run", schema=None) as batch_op:
        batch_op.create_index("ix_collector_run_platform_started", ["platform", "started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("collector_run", schema=None) as batch_op:
        batch_op.drop_index("ix_collector_run_platform_started")

    op.drop_table("collector_run")
    with op.batch_alter_table("kpi_target", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_target_kpi_month")

    op.drop_table("kpi_target")
    with op.batch_alter_table("kpi_value", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_value_kpi_month")

    op.drop_table("kpi_value")
    with op.batch_alter_table("metric_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_snapshot_post_captured")

    op.drop_table("metric_snapshot")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index("ix_post_review_request_id")
        batch_op.drop_index("ix_post_published_at")
        batch_op.drop_index("ix_post_account_published")

    op.drop_table("post")
    with op.batch_alter_table("account_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_account_snapshot_account_captured")

    op.drop_table("account_snapshot")
    op.drop_table("account")
