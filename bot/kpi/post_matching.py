"""One post, however it arrives: platform ids from post URLs, and posts published through a review
(keyed by their URL until their id is known) matched to the export or API row of the same post
(I/O through a passed-in AsyncSession; numpy; no Slack).

Called by :func:`bot.kpi.post_store.upsert_posts` before it looks posts up by
``(platform, external_id)``, so an import or a collection refreshes the row a review created,
keeping its author (the requester) and its review link.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kpi.columns import PostColumns
from bot.kpi.models import MetricSnapshot, Post
from bot.kpi.permalinks import canonical_permalink, is_url_key, platform_post_id

#: Platforms whose post URLs carry the platform's own id (see :func:`platform_post_id`).
_ID_IN_URL = frozenset({"x", "youtube"})


def with_platform_ids(posts: PostColumns) -> PostColumns:
    """``posts`` with each X/YouTube row keyed by a URL re-keyed by the id in that URL (pure).

    The generic format keys a post by its URL; the X export and the API key the same post by its
    status id. Only rows keyed by a URL are looked at, so a platform export costs one prefix test
    per row.
    """
    ids = posts.external_id
    candidates = [
        i
        for i, (platform, ext) in enumerate(zip(posts.platform.tolist(), ids.tolist(), strict=True))
        if platform in _ID_IN_URL and is_url_key(ext)
    ]
    if not candidates:
        return posts
    rekeyed = ids.copy()
    changed = False
    for i in candidates:
        found = platform_post_id(str(posts.platform[i]), str(ids[i]))
        if found is not None:
            rekeyed[i] = found
            changed = True
    return replace(posts, external_id=rekeyed) if changed else posts


async def adopt_reviewed_posts(session: AsyncSession, posts: PostColumns) -> int:
    """Give the platform's id to posts published through a review and still keyed by their URL,
    when ``posts`` report the same post (same canonical permalink); returns how many were adopted.

    When the store already holds the post under its id as well (imported before this version),
    that row keeps the metrics and takes the review's author and link, and the URL-keyed row goes.
    """
    platforms = sorted(set(posts.platform.tolist()))
    pending = (
        await session.execute(
            select(
                Post.id, Post.platform, Post.external_id, Post.author, Post.review_request_id, Post.text
            ).where(
                Post.review_request_id.is_not(None),
                Post.platform.in_(platforms),
                or_(Post.external_id.like("https://%"), Post.external_id.like("http://%")),
            )
        )
    ).all()
    if not pending:
        return 0
    by_link = {
        (row.platform, canonical_permalink(row.external_id) or row.external_id): row for row in pending
    }
    wanted = {platform for platform, _ in by_link}
    matches: dict[int, tuple[Any, str]] = {}
    for platform, ext, url in zip(
        posts.platform.tolist(), posts.external_id.tolist(), posts.url.tolist(), strict=True
    ):
        if platform not in wanted or is_url_key(ext) or not url:
            continue
        link = canonical_permalink(url)
        row = by_link.get((platform, link)) if link else None
        if row is not None:
            matches[row.id] = (row, ext)
    for row, ext in matches.values():
        await _adopt(session, row, ext)
    return len(matches)


async def _adopt(session: AsyncSession, pending: Any, external_id: str) -> None:
    measured = await session.scalar(
        select(Post.id).where(Post.platform == pending.platform, Post.external_id == external_id)
    )
    if measured is None:
        await session.execute(update(Post).where(Post.id == pending.id).values(external_id=external_id))
        return
    await merge_posts(session, keep=measured, drop=pending)


async def merge_posts(session: AsyncSession, *, keep: int, drop: Any) -> None:
    """Make post ``keep`` the one post: it takes ``drop``'s author and review link (and text when it
    has none), ``drop``'s metric history moves to it, and ``drop`` is deleted.

    Args:
        drop: a row with ``id``, ``author``, ``review_request_id`` and ``text``.
    """
    values: dict[str, Any] = {"author": drop.author, "review_request_id": drop.review_request_id}
    current_text = await session.scalar(select(Post.text).where(Post.id == keep))
    if not current_text and drop.text:
        values["text"] = drop.text
    await session.execute(
        update(MetricSnapshot).where(MetricSnapshot.post_id == drop.id).values(post_id=keep)
    )
    await session.execute(delete(Post).where(Post.id == drop.id))
    await session.execute(update(Post).where(Post.id == keep).values(**values))
