"""A post published through a review is one post (issue 14 items 2 and 3): posts that "Mark as
published" (or a generic import, for X and YouTube) keyed by their URL get the platform's id the URL
carries (X status id, YouTube video id);
where the store also holds the same post from an export or a collector (same id, or the same
canonical permalink within a few days), the two rows become one: the measured row stays with its
metrics and history and takes the review's author (the requester) and review link. Collector runs
record how many posts the platform reported on and how many of them were new.

The merge is not undone by the downgrade (it only drops the two counters): the merged rows were
duplicates of one post.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 18:00:00
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.kpi.permalinks import canonical_permalink, post_key

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As ``bot.kpi.published.MATCH_WINDOW``: how far apart two publish times of one post may be.
_WINDOW = timedelta(days=3)

_post = sa.table(
    "post",
    sa.column("id", sa.Integer),
    sa.column("platform", sa.String),
    sa.column("external_id", sa.String),
    sa.column("url", sa.String),
    sa.column("text", sa.Text),
    sa.column("author", sa.String),
    sa.column("review_request_id", sa.Integer),
    sa.column("published_at", sa.DateTime(timezone=True)),
)
_snapshot = sa.table("metric_snapshot", sa.column("post_id", sa.Integer))


def upgrade() -> None:
    with op.batch_alter_table("collector_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posts_seen", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("posts_new", sa.Integer(), server_default="0", nullable=False))
    bind = op.get_bind()
    # Review posts of every platform, and X/YouTube posts a generic import keyed by URL (which the
    # store now keys by the id in the URL, so a re-import of that file finds them).
    pending = bind.execute(
        sa.select(_post).where(
            sa.or_(_post.c.review_request_id.is_not(None), _post.c.platform.in_(["x", "youtube"])),
            sa.or_(_post.c.external_id.like("https://%"), _post.c.external_id.like("http://%")),
        )
    ).all()
    for row in pending:
        _make_one(bind, row)


def _make_one(bind: Any, row: Any) -> None:
    key = post_key(row.platform, row.external_id)
    same = (
        bind.execute(
            sa.select(_post.c.id, _post.c.text, _post.c.review_request_id).where(
                _post.c.platform == row.platform, _post.c.external_id == key, _post.c.id != row.id
            )
        ).first()
        if key != row.external_id
        else None
    )
    if same is None and row.review_request_id is not None:
        same = _same_permalink(bind, row)
    if same is not None:
        if same.review_request_id is not None and row.review_request_id is not None:
            return  # two reviews of one post: leave both as they are
        bind.execute(sa.update(_snapshot).where(_snapshot.c.post_id == row.id).values(post_id=same.id))
        bind.execute(sa.delete(_post).where(_post.c.id == row.id))
        values: dict[str, Any] = {}
        if row.review_request_id is not None:
            values = {"author": row.author, "review_request_id": row.review_request_id}
        if not same.text and row.text:
            values["text"] = row.text
        if values:
            bind.execute(sa.update(_post).where(_post.c.id == same.id).values(**values))
    elif key != row.external_id:
        bind.execute(sa.update(_post).where(_post.c.id == row.id).values(external_id=key))


def _same_permalink(bind: Any, row: Any) -> Any:
    link = canonical_permalink(row.external_id)
    if link is None or row.published_at is None:
        return None
    nearby = bind.execute(
        sa.select(_post.c.id, _post.c.text, _post.c.review_request_id, _post.c.url).where(
            _post.c.platform == row.platform,
            _post.c.id != row.id,
            _post.c.url.is_not(None),
            _post.c.published_at.between(row.published_at - _WINDOW, row.published_at + _WINDOW),
        )
    )
    return next((other for other in nearby if canonical_permalink(other.url) == link), None)


def downgrade() -> None:
    with op.batch_alter_table("collector_run", schema=None) as batch_op:
        batch_op.drop_column("posts_new")
        batch_op.drop_column("posts_seen")
