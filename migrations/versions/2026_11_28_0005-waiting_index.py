"""Reviews waiting on someone, oldest first: an index in that order, so a busy approver's list and
App Home read their page of 20 / 10 and stop instead of sorting every pending request.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 14:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_review_request_status_waiting", "review_request", ["status", "waiting_since", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_review_request_status_waiting", table_name="review_request")
