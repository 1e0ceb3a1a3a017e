"""A post published through a review joins the KPI store as the one post that exports and
collectors report (I/O through a passed-in AsyncSession; no Slack).

The post is keyed by the platform's id when its URL carries one (X, YouTube), else by its
canonical permalink until an import or a collection tells its id (:mod:`bot.kpi.post_matching`).
A post already in the store (imported before it was marked published) is the same post: it takes
the requester as author and the review link, and keeps its metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kpi.models import Post
from bot.kpi.permalinks import canonical_permalink, is_url_key, post_key

#: How far apart an export's publish time and the one typed in Slack may be for a permalink match
#: (time zones, a post scheduled and published later).
MATCH_WINDOW = timedelta(days=3)
#: ``post.source`` of a post that a review created.
FROM_REVIEW = "review"


@dataclass(frozen=True, slots=True)
class PublishedPost:
    """The store's row of a published post: its id, its key, and whether it was already there."""

    post_id: int
    external_id: str
    existed: bool


async def record_published_post(
    session: AsyncSession,
    *,
    account_key: str,
    platform: str,
    url: str,
    published_at: datetime,
    text: str,
    author: str,
    review_request_id: int,
    now: datetime,
) -> PublishedPost | None:
    """Add (or claim) the post a review published; ``None`` when another review already has it.

    Args:
        url: the post URL as the requester gave it (checked by the review slice).
        author: the requester's Slack user id, credited in the digests.
    """
    key = post_key(platform, url)
    for _attempt in range(2):
        existing = await _find(session, account_key=account_key, platform=platform, key=key, at=published_at)
        if existing is not None:
            post_id, external_id, owner, current_text = existing
            if owner is not None and owner != review_request_id:
                return None
            values: dict[str, object] = {"author": author, "review_request_id": review_request_id}
            if not current_text:
                values["text"] = text
            await session.execute(update(Post).where(Post.id == post_id).values(**values))
            return PublishedPost(post_id, external_id, existed=True)
        try:
            async with session.begin_nested():
                row = Post(
                    account_key=account_key,
                    platform=platform,
                    external_id=key,
                    url=url.strip(),
                    text=text,
                    published_at=published_at,
                    author=author,
                    review_request_id=review_request_id,
                    source=FROM_REVIEW,
                    created_at=now,
                )
                session.add(row)
                await session.flush()
            return PublishedPost(row.id, key, existed=False)
        except IntegrityError:
            continue  # an import or a collector stored it between the look-up and the insert
    return None


async def _find(
    session: AsyncSession, *, account_key: str, platform: str, key: str, at: datetime
) -> tuple[int, str, int | None, str] | None:
    """The stored post with this key, else (keyed by URL) the account's post near ``at`` whose
    permalink is the same."""
    row = (
        await session.execute(
            select(Post.id, Post.external_id, Post.review_request_id, Post.text).where(
                Post.platform == platform, Post.external_id == key
            )
        )
    ).first()
    if row is not None or not is_url_key(key):
        return None if row is None else (row[0], row[1], row[2], row[3])
    nearby = await session.execute(
        select(Post.id, Post.external_id, Post.review_request_id, Post.text, Post.url).where(
            Post.account_key == account_key,
            Post.platform == platform,
            Post.published_at.between(at - MATCH_WINDOW, at + MATCH_WINDOW),
            Post.url.is_not(None),
        )
    )
    for post_id, external_id, owner, text, url in nearby:
        if url and canonical_permalink(url) == key:
            return post_id, external_id, owner, text
    return None
