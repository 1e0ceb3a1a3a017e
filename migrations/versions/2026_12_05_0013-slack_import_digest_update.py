"""Import from Slack and digest updates: ``kpi_upload`` (one row per export file dropped into the
bot's DM), and on ``digest_run`` when a posted digest was last updated in place and who holds the
update now.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpi_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("message_ts", sa.String(length=40), nullable=True),
        sa.Column("filename", sa.String(length=300), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_upload")),
        sa.UniqueConstraint("file_id", name=op.f("uq_kpi_upload_file_id")),
    )
    with op.batch_alter_table("digest_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", bot.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("update_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("update_lease_until", bot.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digest_run", schema=None) as batch_op:
        batch_op.drop_column("update_lease_until")
        batch_op.drop_column("update_by")
        batch_op.drop_column("updated_at")
    op.drop_table("kpi_upload")
