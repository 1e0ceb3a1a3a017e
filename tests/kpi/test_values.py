"""Writing the KPI store: idempotent post upserts (records and columns, SQLite and PostgreSQL paths),
collected metrics, imported values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import async_url
from bot.kpi import post_store
from bot.kpi.columns import PostColumns
from bot.kpi.models import MetricSnapshot, Post
from bot.kpi.records import KpiRecord, PostRecord, RecordResult, UpsertResult
from bot.kpi.values import record_values, store_metrics, upsert_posts
from bot.metrics import METRIC_FIELDS, Metrics
from tests.conftest import NOW
from tests.kpi.store_support import make_post


async def test_upsert_posts_is_idempotent_and_snapshots_only_changes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = [make_post("1", NOW, impressions=100, likes=3), make_post("2", NOW, impressions=50)]
    async with sessions.begin() as session:
        assert await upsert_posts(session, first, source="import", now=NOW) == UpsertResult(2, 0, 0)
    async with sessions.begin() as session:
        again = await upsert_posts(session, first, source="import", now=NOW + timedelta(hours=1))
        assert again == UpsertResult(0, 0, 2)
    later = NOW + timedelta(days=1)
    async with sessions.begin() as session:
        changed = await upsert_posts(
            session, [make_post("1", NOW, impressions=150, likes=4, comments=1)], source="api", now=later
        )
        assert changed == UpsertResult(0, 1, 0)
    async with sessions() as session:
        post = await session.scalar(select(Post).where(Post.external_id == "1"))
        snapshots = await session.scalar(select(func.count()).select_from(MetricSnapshot))
        posts = await session.scalar(select(func.count()).select_from(Post))
    assert post is not None
    assert (post.impressions, post.likes, post.comments, post.engagements, post.metrics_at) == (
        150,
        4,
        1,
        5,
        later,
    )
    assert (posts, snapshots) == (2, 3)


async def test_store_metrics_keeps_unreported_fields(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await upsert_posts(session, [make_post("9", NOW, impressions=10, clicks=2)], source="import", now=NOW)
        result = await store_metrics(
            session,
            platform="x",
            metrics={"9": Metrics(likes=5), "404": Metrics(likes=1)},
            source="api",
            now=NOW,
        )
    assert result == UpsertResult(0, 1, 0)
    async with sessions() as session:
        post = await session.scalar(select(Post).where(Post.external_id == "9"))
    assert post is not None
    assert (post.impressions, post.clicks, post.likes, post.engagements) == (10, 2, 5, 5)


def _columns(records: list[PostRecord]) -> PostColumns:
    return PostColumns.from_records(records)


async def _stored(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    metrics = [getattr(Post, name) for name in METRIC_FIELDS]
    async with sessions() as session:
        posts = (
            await session.execute(
                select(
                    Post.account_key,
                    Post.platform,
                    Post.external_id,
                    Post.url,
                    Post.text,
                    Post.published_at,
                    Post.author,
                    Post.source,
                    Post.created_at,
                    Post.metrics_at,
                    *metrics,
                ).order_by(Post.platform, Post.external_id)
            )
        ).all()
        snapshots = (
            await session.execute(
                select(
                    Post.external_id,
                    MetricSnapshot.captured_at,
                    MetricSnapshot.source,
                    *(getattr(MetricSnapshot, name) for name in METRIC_FIELDS),
                )
                .join(Post, Post.id == MetricSnapshot.post_id)
                .order_by(Post.platform, Post.external_id, MetricSnapshot.id)
            )
        ).all()
    return [tuple(r) for r in posts], [tuple(r) for r in snapshots]


async def test_column_upsert_writes_every_field_of_new_posts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    published = datetime(2026, 6, 5, 3, 4, 5, 678000, tzinfo=UTC)
    posts = [
        PostRecord(
            platform="x",
            external_id="1",
            published_at=published,
            url="https://x.com/a/status/1",
            text='改行\nあり, "quoted"',
            account_key="x_corp",
            author="sato",
            metrics=Metrics(impressions=2**52, likes=3, comments=2),
        ),
        PostRecord(platform="x", external_id="2", published_at=published, account_key="x_corp"),
        PostRecord(
            platform="instagram",
            external_id="1",
            published_at=NOW,
            account_key="ig_recruit",
            metrics=Metrics(reach=7, engagements=0, saves=4),
        ),
    ]
    async with sessions.begin() as session:
        result = await upsert_posts(session, _columns(posts), source="import", now=NOW)
    assert result == UpsertResult(3, 0, 0)

    stored, snapshots = await _stored(sessions)
    assert stored == [
        ("ig_recruit", "instagram", "1", None, "", NOW, None, "import", NOW, NOW)
        + (None, 7, 0, None, None, None, 4, None, None),
        (
            "x_corp",
            "x",
            "1",
            "https://x.com/a/status/1",
            '改行\nあり, "quoted"',
            published,
            "sato",
            "import",
            NOW,
            NOW,
        )
        + (2**52, None, 5, 3, 2, None, None, None, None),
        ("x_corp", "x", "2", None, "", published, None, "import", NOW, None) + (None,) * 9,
    ]
    # The first snapshot is the post's metrics; a post that reported nothing has none.
    assert snapshots == [
        ("1", NOW, "import", None, 7, 0, None, None, None, 4, None, None),  # instagram
        ("1", NOW, "import", 2**52, None, 5, 3, 2, None, None, None, None),  # x
    ]
    # Records and columns are the same upsert: the records path sees them all as unchanged.
    async with sessions.begin() as session:
        assert await upsert_posts(session, posts, source="api", now=NOW) == UpsertResult(0, 0, 3)


async def test_column_upsert_mixes_new_and_known_posts_and_merges_like_records(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    later = NOW + timedelta(days=1)
    async with sessions.begin() as session:
        await upsert_posts(
            session,
            [
                make_post("1", NOW, impressions=100, engagements=9, likes=3),
                make_post("2", NOW, impressions=50),
                make_post("3", NOW, likes=1),
            ],
            source="import",
            now=NOW,
        )
    chunk = [
        make_post("1", NOW, impressions=100, likes=4),  # likes changed; engagements recomputed from parts
        make_post("2", NOW),  # reports nothing: keeps everything
        make_post("3", NOW, likes=1),  # equal
        make_post("4", NOW, clicks=2),  # new
        make_post("4", NOW, clicks=5),  # the same post later in the chunk wins
    ]
    async with sessions.begin() as session:
        result = await upsert_posts(session, _columns(chunk), source="import", now=later)
    assert result == UpsertResult(new=1, updated=1, unchanged=2)

    stored, snapshots = await _stored(sessions)
    by_id = {row[2]: row for row in stored}
    metrics = {ext: row[10:] for ext, row in by_id.items()}
    assert metrics == {
        "1": (100, None, 4, 4, None, None, None, None, None),
        "2": (50, None, None, None, None, None, None, None, None),
        "3": (None, None, 1, 1, None, None, None, None, None),
        "4": (None, None, 5, None, None, None, None, 5, None),
    }
    assert {ext: row[9] for ext, row in by_id.items()} == {"1": later, "2": NOW, "3": NOW, "4": later}
    assert [(ext, at) for ext, at, *_ in snapshots] == [
        ("1", NOW),
        ("1", later),
        ("2", NOW),
        ("3", NOW),
        ("4", later),
    ]


async def test_column_upsert_of_many_posts_across_lookup_and_copy_paths(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    n = post_store.BULK_ROWS + 1  # large enough for PostgreSQL's ANALYZE branch
    posts = [make_post(str(i), NOW, impressions=i) for i in range(n)]
    async with sessions.begin() as session:
        assert await upsert_posts(session, _columns(posts), source="import", now=NOW) == (
            UpsertResult(n, 0, 0)
        )
    again = [make_post(str(i), NOW, impressions=i + (i % 2)) for i in range(n)]
    async with sessions.begin() as session:
        assert await upsert_posts(session, _columns(again), source="import", now=NOW) == (
            UpsertResult(0, n // 2, n - n // 2)
        )
    async with sessions() as session:
        total = await session.scalar(select(func.sum(Post.impressions)))
        snapshots = await session.scalar(select(func.count()).select_from(MetricSnapshot))
    assert (int(total or 0), snapshots) == (sum(range(n)) + n // 2, n + n // 2)


async def test_a_post_without_account_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    post = PostRecord(platform="x", external_id="1", published_at=NOW)
    async with sessions.begin() as session:
        with pytest.raises(ValueError, match="x/1 has no account"):
            await upsert_posts(session, _columns([post]), source="import", now=NOW)


def test_sqlite_datetimes_match_the_column_type() -> None:
    times = [datetime(2026, 6, 5, 3, 4, 5, 678000, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC), NOW]
    dialect = async_url("sqlite:///x.db").get_dialect()()
    process = Post.__table__.c.published_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    column = np.array([t.replace(tzinfo=None) for t in times], dtype="datetime64[us]")
    assert post_store.sqlite_datetimes(column) == [process(t) for t in times]


async def test_record_values_skips_unchanged(sessions: async_sessionmaker[AsyncSession]) -> None:
    records = [
        KpiRecord("recruiting_entries", "2026-11", 12),
        KpiRecord("recruiting_entries", "2026-11-02", 3),
    ]
    async with sessions.begin() as session:
        assert await record_values(session, records, source="import", user_id=None, now=NOW) == (
            RecordResult(2, 0)
        )
    async with sessions.begin() as session:
        assert await record_values(session, records, source="import", user_id=None, now=NOW) == (
            RecordResult(0, 2)
        )
