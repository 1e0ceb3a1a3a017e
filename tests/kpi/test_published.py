"""A post published through a review is one post: keyed by the id its URL carries, claimed when an
import got there first, matched by permalink (Instagram) at the next import, and never re-credited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.kpi.models import MetricSnapshot, Post
from bot.kpi.published import record_published_post
from bot.kpi.records import PostRecord, UpsertResult
from bot.kpi.values import upsert_posts
from bot.metrics import Metrics
from tests.conftest import NOW, OPERATOR

STATUS_URL = "https://x.com/example_corp/status/1860000000000000001"
REEL_URL = "https://www.instagram.com/reel/Ddr9jGEmLMp/?igsh=share"
MEDIA_ID = "18182686576415017"


async def _publish(
    sessions: async_sessionmaker[AsyncSession],
    *,
    url: str,
    account: str = "x_corp",
    platform: str = "x",
    review: int = 7,
) -> object:
    async with sessions.begin() as session:
        return await record_published_post(
            session,
            account_key=account,
            platform=platform,
            url=url,
            published_at=NOW,
            text="冬の新商品です",
            author=OPERATOR,
            review_request_id=review,
            now=NOW,
        )


async def _posts(sessions: async_sessionmaker[AsyncSession]) -> list[Post]:
    async with sessions() as session:
        return list((await session.scalars(select(Post).order_by(Post.id))).all())


def _x_export_row(**metrics: int) -> PostRecord:
    return PostRecord(
        platform="x",
        external_id="1860000000000000001",
        published_at=NOW + timedelta(minutes=3),
        url="https://twitter.com/example_corp/status/1860000000000000001",
        text="冬の新商品です！",
        account_key="x_corp",
        author="example_corp",
        metrics=Metrics(**metrics),
    )


async def test_an_import_after_publishing_refreshes_the_reviews_row(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    published = await _publish(sessions, url=STATUS_URL)
    assert published is not None
    async with sessions.begin() as session:
        result = await upsert_posts(
            session, [_x_export_row(impressions=1200, likes=30)], source="import", now=NOW
        )
    assert result == UpsertResult(0, 1, 0)
    (post,) = await _posts(sessions)
    assert (post.external_id, post.author, post.review_request_id, post.impressions, post.likes) == (
        "1860000000000000001",
        OPERATOR,  # the export's author name does not replace the requester
        7,
        1200,
        30,
    )


async def test_publishing_a_post_already_imported_claims_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await upsert_posts(session, [_x_export_row(impressions=900)], source="import", now=NOW)
    published = await _publish(
        sessions, url="https://mobile.twitter.com/example_corp/status/1860000000000000001"
    )
    assert published is not None and published.existed
    (post,) = await _posts(sessions)
    assert (post.author, post.review_request_id, post.impressions, post.text) == (
        OPERATOR,
        7,
        900,
        "冬の新商品です！",
    )
    # Another review cannot take the same post.
    assert await _publish(sessions, url=STATUS_URL, review=8) is None
    assert (await _posts(sessions))[0].review_request_id == 7


async def test_an_instagram_post_is_matched_by_permalink_at_the_next_import(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    published = await _publish(sessions, url=REEL_URL, account="ig_recruit", platform="instagram")
    assert published is not None and published.external_id == "https://instagram.com/p/Ddr9jGEmLMp"
    meta_row = PostRecord(
        platform="instagram",
        external_id=MEDIA_ID,
        published_at=NOW + timedelta(hours=9),  # Meta's local time, unstated zone
        url="https://www.instagram.com/p/Ddr9jGEmLMp/",
        account_key="ig_recruit",
        author="example_recruit",
        metrics=Metrics(impressions=5000, reach=4000, likes=40),
    )
    async with sessions.begin() as session:
        assert await upsert_posts(session, [meta_row], source="import", now=NOW) == UpsertResult(0, 1, 0)
    (post,) = await _posts(sessions)
    assert (post.external_id, post.author, post.review_request_id, post.reach) == (
        MEDIA_ID,
        OPERATOR,
        7,
        4000,
    )


async def test_publishing_an_instagram_post_already_imported_claims_it_by_permalink(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await upsert_posts(
            session,
            [
                PostRecord(
                    platform="instagram",
                    external_id=MEDIA_ID,
                    published_at=NOW - timedelta(hours=2),
                    url="https://www.instagram.com/p/Ddr9jGEmLMp/",
                    account_key="ig_recruit",
                    metrics=Metrics(likes=4),
                )
            ],
            source="import",
            now=NOW,
        )
    published = await _publish(sessions, url=REEL_URL, account="ig_recruit", platform="instagram")
    assert published is not None and published.existed and published.external_id == MEDIA_ID
    (post,) = await _posts(sessions)
    assert (post.author, post.review_request_id, post.likes) == (OPERATOR, 7, 4)


async def test_a_generic_import_keyed_by_url_lands_on_the_status_id(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _publish(sessions, url=STATUS_URL)
    generic = PostRecord(
        platform="x",
        external_id="https://twitter.com/example_corp/status/1860000000000000001",
        published_at=NOW,
        url="https://twitter.com/example_corp/status/1860000000000000001",
        account_key="x_corp",
        metrics=Metrics(impressions=10),
    )
    async with sessions.begin() as session:
        await upsert_posts(session, [generic], source="import", now=NOW)
    (post,) = await _posts(sessions)
    assert (post.external_id, post.impressions, post.author) == ("1860000000000000001", 10, OPERATOR)


async def test_an_old_duplicate_is_merged_when_the_post_comes_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A review row keyed by URL and an imported row of the same post (stored before this fix):
    the next import leaves one row, with the measured metrics and history and the review's credit."""
    async with sessions.begin() as session:
        await upsert_posts(
            session,
            [
                PostRecord(
                    "instagram",
                    MEDIA_ID,
                    NOW,
                    url="https://www.instagram.com/p/Ddr9jGEmLMp/",
                    account_key="ig_recruit",
                    metrics=Metrics(likes=3),
                )
            ],
            source="import",
            now=NOW,
        )
        session.add(
            Post(
                account_key="ig_recruit",
                platform="instagram",
                external_id=REEL_URL,  # what "mark as published" stored before
                url=REEL_URL,
                text="冬の新商品です",
                published_at=NOW,
                author=OPERATOR,
                review_request_id=7,
                source="review",
                created_at=NOW,
            )
        )
    again = PostRecord(
        "instagram",
        MEDIA_ID,
        NOW,
        url="https://www.instagram.com/p/Ddr9jGEmLMp/",
        account_key="ig_recruit",
        metrics=Metrics(likes=5),
    )
    async with sessions.begin() as session:
        await upsert_posts(session, [again], source="import", now=NOW + timedelta(days=1))
    (post,) = await _posts(sessions)
    assert (post.external_id, post.author, post.review_request_id, post.likes, post.text) == (
        MEDIA_ID,
        OPERATOR,
        7,
        5,
        "冬の新商品です",
    )
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MetricSnapshot)) == 2
