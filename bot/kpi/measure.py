"""Measure a post the moment it is marked as published: its id resolved through the platform API when
its URL does not carry it (an Instagram shortcode), then its metrics (I/O: the store, the platform
API through the port; no Slack).

Without a token for the platform, or when the platform is unreachable, nothing happens here: the
daily collector run (:mod:`bot.kpi.jobs`) or the next import matches and measures the post.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import unit_of_work
from bot.kpi.models import Post
from bot.kpi.permalinks import is_url_key
from bot.kpi.records import PostRecord
from bot.kpi.values import store_metrics, upsert_posts
from bot.metrics import Metrics
from bot.runtime.platforms import AccountRef, PlatformClient, PostRef

log = logging.getLogger(__name__)

#: Listed from this long before the publish time the requester typed (clocks, time zones).
LISTING_MARGIN = timedelta(days=1)
#: ``post.source`` / ``metric_snapshot.source`` of what the platform APIs report.
SOURCE = "api"


async def measure_published_post(
    *,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    platforms: Mapping[str, PlatformClient],
    review_request_id: int,
    now: datetime,
) -> str | None:
    """Resolve and measure the post of review ``review_request_id``; returns its platform id when it
    got metrics, else ``None`` (no client for the platform, id not found yet, the API failed)."""
    async with unit_of_work(sessions) as session:
        row = (
            await session.execute(
                select(Post.account_key, Post.platform, Post.external_id, Post.published_at).where(
                    Post.review_request_id == review_request_id
                )
            )
        ).first()
    if row is None:
        return None
    account_key, platform, external_id, published_at = row
    account = settings.account(account_key)
    client = platforms.get(platform)
    if account is None or client is None:
        return None
    try:
        if is_url_key(external_id):
            if not account.platform_id:
                return None
            listed = await client.discover_posts(
                AccountRef(account.key, account.platform_id), since=published_at - LISTING_MARGIN
            )
            records = [
                PostRecord(
                    platform=platform,
                    external_id=post.external_id,
                    published_at=post.published_at,
                    url=post.url or None,
                    text=post.text,
                    account_key=account.key,
                    metrics=post.metrics if listed.measured else Metrics(),
                )
                for post in listed.posts
            ]
            async with unit_of_work(sessions) as session:
                await upsert_posts(session, records, source=SOURCE, now=now)  # matched by permalink
                resolved = await session.scalar(
                    select(Post.external_id).where(Post.review_request_id == review_request_id)
                )
            if resolved is None or is_url_key(resolved):
                return None
            external_id = resolved
        result = await client.fetch_post_metrics([PostRef(external_id=external_id, account_key=account.key)])
    except Exception:  # the daily run tries again; the requester's publish is already done
        log.warning("could not measure the post of review %s now", review_request_id, exc_info=True)
        return None
    for error in result.errors:
        log.warning("measuring the post of review %s: %r", review_request_id, error)
    if external_id not in result.metrics:
        return None
    async with unit_of_work(sessions) as session:
        await store_metrics(session, platform=platform, metrics=result.metrics, source=SOURCE, now=now)
    return external_id
