"""KPI service: month values (recorded and derived), targets, idempotent post upserts, value checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import async_url, make_sessionmaker
from bot.errors import BotError
from bot.kpi import post_store, service
from bot.kpi.columns import PostColumns
from bot.kpi.models import AccountSnapshot, KpiValue, MetricSnapshot, Post
from bot.kpi.records import KpiRecord, PostRecord
from bot.kpi.service import KpiMonth
from bot.metrics import METRIC_FIELDS, Metrics
from bot.periods import month_of, months_back
from tests.conftest import ADMIN, NOW, make_settings

NOV = month_of(date(2026, 11, 1))
OCT = NOV.previous()


def _derived(raw: dict[str, Any]) -> None:
    for key in ("impressions", "posts_published", "follower_growth", "engagements"):
        raw["kpis"].append(
            {
                "key": key,
                "name": {"ja": key, "en": key},
                "unit": "",
                "aggregate": "derived",
                "derive": key,
                "better": "higher",
                "why": {"ja": "理由", "en": "why"},
            }
        )
    raw["kpis"].append(
        {
            "key": "x_rate",
            "name": {"ja": "X 率", "en": "X rate"},
            "unit": "%",
            "aggregate": "derived",
            "derive": "engagement_rate",
            "accounts": ["x_corp"],
            "better": "higher",
            "target": 2.0,
            "why": {"ja": "理由", "en": "why"},
        }
    )
    raw["kpis"].append(
        {
            "key": "cost",
            "name": {"ja": "コスト", "en": "Cost"},
            "unit": "¥",
            "aggregate": "mean",
            "better": "lower",
            "target": 1000,
            "why": {"ja": "理由", "en": "why"},
        }
    )


@pytest.fixture
def kpi_settings(db_url: str) -> Settings:
    return make_settings(db_url=db_url, change=_derived)


@pytest.fixture
async def sessions(engine: AsyncEngine, kpi_settings: Settings) -> async_sessionmaker[AsyncSession]:
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await service.sync_accounts(session, accounts=kpi_settings.accounts)
    return sessions


def _post(ext: str, published: datetime, *, account: str = "x_corp", **metrics: int) -> PostRecord:
    platform = "x" if account == "x_corp" else "instagram"
    return PostRecord(
        platform=platform,
        external_id=ext,
        published_at=published,
        url=f"https://example.com/{ext}",
        account_key=account,
        metrics=Metrics(**metrics),
    )


# 2026-11-01 00:00 JST is 2026-10-31 15:00 UTC: a post at 16:00 UTC on 10-31 belongs to November.
EARLY_NOV = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
LATE_OCT = datetime(2026, 10, 31, 14, 0, tzinfo=UTC)


async def test_derived_kpis_bucket_posts_by_local_month(
    sessions: async_sessionmaker[AsyncSession], kpi_settings: Settings
) -> None:
    async with sessions.begin() as session:
        await service.upsert_posts(
            session,
            [
                _post("1", EARLY_NOV, impressions=1000, likes=20, comments=5, shares=5),  # eng 30
                _post("2", NOW, impressions=3000, engagements=60),
                _post("3", NOW, account="ig_recruit", impressions=1000, engagements=100),
                _post("4", NOW, likes=7),  # no impressions: counted, but not in the rate
                _post("5", LATE_OCT, impressions=500, engagements=10),
            ],
            source="import",
            now=NOW,
        )
    async with sessions() as session:
        result = await service.kpi_months(session, settings=kpi_settings, months=[OCT, NOV])
    assert result["engagement_rate"] == [
        KpiMonth("engagement_rate", "2026-10", 2.0, 3.0),
        KpiMonth("engagement_rate", "2026-11", pytest.approx(190 / 5000 * 100), 3.0),
    ]
    assert result["x_rate"][1] == KpiMonth("x_rate", "2026-11", pytest.approx(90 / 4000 * 100), 2.0)
    assert [m.value for m in result["impressions"]] == [500.0, 5000.0]
    assert [m.value for m in result["engagements"]] == [10.0, 197.0]
    assert [m.value for m in result["posts_published"]] == [1.0, 4.0]
    assert [m.value for m in result["recruiting_entries"]] == [None, None]
    assert [m.target for m in result["recruiting_entries"]] == [30.0, 30.0]


async def test_recorded_values_month_level_wins_else_day_aggregate(
    sessions: async_sessionmaker[AsyncSession], kpi_settings: Settings
) -> None:
    async with sessions.begin() as session:
        for day, value in ((date(2026, 11, 2), 4.0), (date(2026, 11, 3), 6.0), (date(2026, 11, 3), 5.0)):
            for key in ("recruiting_entries", "branded_search", "cost"):
                await service.record_value(
                    session,
                    kpi=key,
                    month="2026-11",
                    day=day,
                    value=value,
                    source="import",
                    user_id=None,
                    now=NOW,
                )
        for value in (10.0, 12.0):
            await service.record_value(
                session,
                kpi="recruiting_entries",
                month="2026-10",
                day=None,
                value=value,
                source="slack",
                user_id=ADMIN,
                now=NOW,
            )
        await service.record_value(
            session,
            kpi="recruiting_entries",
            month="2026-10",
            day=date(2026, 10, 5),
            value=99.0,
            source="import",
            user_id=None,
            now=NOW,
        )
        await service.set_target(
            session, kpi="recruiting_entries", month="2026-11", value=40, user_id=ADMIN, now=NOW
        )
        await service.set_target(
            session, kpi="recruiting_entries", month="2026-11", value=35, user_id=ADMIN, now=NOW
        )
    async with sessions() as session:
        result = await service.kpi_months(session, settings=kpi_settings, months=[OCT, NOV])
        history = await session.scalar(select(func.count()).select_from(KpiValue))
    # Day 3 was corrected from 6 to 5: the latest row of a day counts.
    assert result["recruiting_entries"] == [
        KpiMonth("recruiting_entries", "2026-10", 12.0, 30.0),
        KpiMonth("recruiting_entries", "2026-11", 9.0, 35.0),
    ]
    assert result["branded_search"][1].value == 5.0  # last
    assert result["cost"][1].value == 4.5  # mean
    assert history == 12  # history keeps every row


async def test_follower_growth_per_account_summed(
    sessions: async_sessionmaker[AsyncSession], kpi_settings: Settings
) -> None:
    async with sessions.begin() as session:
        for account, when, followers in (
            ("x_corp", datetime(2026, 9, 30, tzinfo=UTC), 900),
            ("x_corp", datetime(2026, 10, 10, tzinfo=UTC), 950),
            ("x_corp", datetime(2026, 10, 20, tzinfo=UTC), 1000),
            ("x_corp", datetime(2026, 11, 10, tzinfo=UTC), 1100),
            ("ig_recruit", datetime(2026, 10, 20, tzinfo=UTC), 500),
            ("ig_recruit", datetime(2026, 11, 15, tzinfo=UTC), 480),
        ):
            session.add(
                AccountSnapshot(account_key=account, followers=followers, captured_at=when, source="api")
            )
    async with sessions() as session:
        result = await service.kpi_months(session, settings=kpi_settings, months=[OCT, NOV])
    # October: x 1000-900 (ig has no baseline); November: x +100, ig -20.
    assert [m.value for m in result["follower_growth"]] == [100.0, 80.0]


async def test_account_filters_and_follower_ties_from_one_read(
    sessions: async_sessionmaker[AsyncSession], kpi_settings: Settings
) -> None:
    """Two account filters (all, x_corp) over the same posts; a month asked for twice counts once;
    two follower counts at the same instant: the larger one is the month's last count."""
    async with sessions.begin() as session:
        await service.upsert_posts(
            session,
            [
                _post("1", NOW, impressions=1000, engagements=50),
                _post("2", NOW, account="ig_recruit", impressions=3000, engagements=30),
                _post("3", LATE_OCT, account="ig_recruit", impressions=100, engagements=1),
            ],
            source="import",
            now=NOW,
        )
        tie = datetime(2026, 11, 10, tzinfo=UTC)
        for account, when, followers in (
            ("x_corp", datetime(2026, 10, 20, tzinfo=UTC), 1000),
            ("x_corp", tie, 1040),
            ("x_corp", tie, 1050),
        ):
            session.add(
                AccountSnapshot(account_key=account, followers=followers, captured_at=when, source="api")
            )
    async with sessions() as session:
        result = await service.kpi_months(session, settings=kpi_settings, months=[OCT, NOV, NOV])
    assert [m.value for m in result["posts_published"]] == [1.0, 2.0, 2.0]
    assert [m.value for m in result["engagement_rate"]] == [1.0, pytest.approx(2.0), pytest.approx(2.0)]
    assert [m.value for m in result["x_rate"]] == [None, pytest.approx(5.0), pytest.approx(5.0)]
    assert [m.value for m in result["follower_growth"]] == [None, 50.0, 50.0]


async def test_upsert_posts_is_idempotent_and_snapshots_only_changes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = [_post("1", NOW, impressions=100, likes=3), _post("2", NOW, impressions=50)]
    async with sessions.begin() as session:
        assert await service.upsert_posts(session, first, source="import", now=NOW) == service.UpsertResult(
            2, 0, 0
        )
    async with sessions.begin() as session:
        again = await service.upsert_posts(session, first, source="import", now=NOW + timedelta(hours=1))
        assert again == service.UpsertResult(0, 0, 2)
    later = NOW + timedelta(days=1)
    async with sessions.begin() as session:
        changed = await service.upsert_posts(
            session, [_post("1", NOW, impressions=150, likes=4, comments=1)], source="api", now=later
        )
        assert changed == service.UpsertResult(0, 1, 0)
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
        await service.upsert_posts(
            session, [_post("9", NOW, impressions=10, clicks=2)], source="import", now=NOW
        )
        result = await service.store_metrics(
            session,
            platform="x",
            metrics={"9": Metrics(likes=5), "404": Metrics(likes=1)},
            source="api",
            now=NOW,
        )
    assert result == service.UpsertResult(0, 1, 0)
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
        result = await service.upsert_posts(session, _columns(posts), source="import", now=NOW)
    assert result == service.UpsertResult(3, 0, 0)

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
        assert await service.upsert_posts(session, posts, source="api", now=NOW) == service.UpsertResult(
            0, 0, 3
        )


async def test_column_upsert_mixes_new_and_known_posts_and_merges_like_records(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    later = NOW + timedelta(days=1)
    async with sessions.begin() as session:
        await service.upsert_posts(
            session,
            [
                _post("1", NOW, impressions=100, engagements=9, likes=3),
                _post("2", NOW, impressions=50),
                _post("3", NOW, likes=1),
            ],
            source="import",
            now=NOW,
        )
    chunk = [
        _post("1", NOW, impressions=100, likes=4),  # likes changed; engagements recomputed from parts
        _post("2", NOW),  # reports nothing: keeps everything
        _post("3", NOW, likes=1),  # equal
        _post("4", NOW, clicks=2),  # new
        _post("4", NOW, clicks=5),  # the same post later in the chunk wins
    ]
    async with sessions.begin() as session:
        result = await service.upsert_posts(session, _columns(chunk), source="import", now=later)
    assert result == service.UpsertResult(new=1, updated=1, unchanged=2)

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
    n = service.BULK_ROWS + 1  # large enough for PostgreSQL's ANALYZE branch
    posts = [_post(str(i), NOW, impressions=i) for i in range(n)]
    async with sessions.begin() as session:
        assert await service.upsert_posts(session, _columns(posts), source="import", now=NOW) == (
            service.UpsertResult(n, 0, 0)
        )
    again = [_post(str(i), NOW, impressions=i + (i % 2)) for i in range(n)]
    async with sessions.begin() as session:
        assert await service.upsert_posts(session, _columns(again), source="import", now=NOW) == (
            service.UpsertResult(0, n // 2, n - n // 2)
        )
    async with sessions() as session:
        total = await session.scalar(select(func.sum(Post.impressions)))
        snapshots = await session.scalar(select(func.count()).select_from(MetricSnapshot))
    assert (int(total or 0), snapshots) == (sum(range(n)) + n // 2, n + n // 2)


async def test_a_post_without_account_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    post = PostRecord(platform="x", external_id="1", published_at=NOW)
    async with sessions.begin() as session:
        with pytest.raises(ValueError, match="x/1 has no account"):
            await service.upsert_posts(session, _columns([post]), source="import", now=NOW)


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
        assert await service.record_values(session, records, source="import", user_id=None, now=NOW) == (
            service.RecordResult(2, 0)
        )
    async with sessions.begin() as session:
        assert await service.record_values(session, records, source="import", user_id=None, now=NOW) == (
            service.RecordResult(0, 2)
        )


# --------------------------------------------------------------------------------- pure checks


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1234", 1234.0), ("1,234", 1234.0), ("3.2%", 3.2), ("¥12,000", 12000.0), ("１２", 12.0), ("0", 0.0)],
)
def test_parse_value_accepts(text: str, expected: float) -> None:
    kpi = make_settings().kpis[0]
    assert service.parse_value(kpi, text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("abc", "kpi.errors.bad_value"),
        ("NaN", "kpi.errors.bad_value"),
        ("inf", "kpi.errors.bad_value"),
        ("1e400", "kpi.errors.bad_value"),
        ("1,23", "kpi.errors.bad_value"),
        ("", "kpi.errors.bad_value"),
        ("-5", "kpi.errors.negative_value"),
    ],
)
def test_parse_value_refuses(text: str, key: str) -> None:
    with pytest.raises(BotError) as info:
        service.parse_value(make_settings().kpis[0], text)
    assert info.value.key == key


def test_parse_month() -> None:
    tz = make_settings().tz
    assert service.parse_month(None, now=NOW, tz=tz).label == "2026-11"
    assert service.parse_month("2026-12", now=NOW, tz=tz).label == "2026-12"
    assert service.parse_month("2025-01", now=NOW, tz=tz).label == "2025-01"
    for text, key in (
        ("2027-01", "kpi.errors.month_too_far"),
        ("2026-13", "kpi.errors.bad_month"),
        ("11", "kpi.errors.bad_month"),
    ):
        with pytest.raises(BotError) as info:
            service.parse_month(text, now=NOW, tz=tz)
        assert info.value.key == key


def test_assess_pace_for_sum_and_rate() -> None:
    settings = make_settings()
    entries, rate = settings.kpis[0], settings.kpis[1]
    half = service.assess(
        entries,
        KpiMonth("recruiting_entries", "2026-11", 14, 30),
        KpiMonth("recruiting_entries", "2026-10", 20, 30),
        elapsed=0.5,
    )
    assert (half.expected, half.on_track, half.change, half.good_change) == (15.0, False, -6.0, False)
    assert half.achievement == pytest.approx(46.666, abs=0.01)
    r = service.assess(rate, KpiMonth("engagement_rate", "2026-11", 3.3, 3.0), None, elapsed=0.1)
    assert (r.expected, r.on_track, r.change) == (3.0, True, None)


def test_months_back_matches_history_window() -> None:
    assert [m.label for m in months_back(NOV, 3)] == ["2026-09", "2026-10", "2026-11"]
