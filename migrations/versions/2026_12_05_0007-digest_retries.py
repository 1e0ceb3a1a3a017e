"""Digest retries: when the next attempt of an unposted digest may start (``retry_at``), and whether
a post may already be in the channel (``attempted_at``, written before every chat.postMessage).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("digest_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_at", bot.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempted_at", bot.db.UTCDateTime(timezone=True), nullable=True))
    # A claim left unfinished by an earlier version may have sent its post: whoever takes it over
    # must look in the channel first, as before this column existed.
    op.execute(
        "UPDATE digest_run SET attempted_at = created_at "
        "WHERE status IN ('claimed', 'failed') AND message_ts IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("digest_run", schema=None) as batch_op:
        batch_op.drop_column("attempted_at")
        batch_op.drop_column("retry_at")
