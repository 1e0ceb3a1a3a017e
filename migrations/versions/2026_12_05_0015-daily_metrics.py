"""Daily account metrics: one row per (platform, account, metric, subject, day) from time-series
exports (X's daily account export, YouTube's Totals.csv and Chart data.csv, Search Console's Chart.csv).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_metric",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("account_key", sa.String(length=40), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_metric")),
        sa.UniqueConstraint(
            "platform",
            "account_key",
            "metric",
            "subject",
            "day",
            name=op.f("uq_daily_metric_platform_account_key_metric_subject_day"),
        ),
    )
    op.create_index("ix_daily_metric_metric_day", "daily_metric", ["metric", "day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_daily_metric_metric_day", table_name="daily_metric")
    op.drop_table("daily_metric")
