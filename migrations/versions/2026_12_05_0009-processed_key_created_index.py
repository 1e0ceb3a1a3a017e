"""Exactly-once keys are pruned by age once they can no longer matter: an index on their time, so
the daily prune finds the old rows without reading the table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_processed_key_created_at", "processed_key", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_processed_key_created_at", table_name="processed_key")
