"""An approver who is away names a delegate (a configured manager) on the App Home, who decides
for them until they are back (issue 13 item 4).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delegate_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_state", schema=None) as batch_op:
        batch_op.drop_column("delegate_id")
