"""Reading the KPI store: month values recorded or derived from posts and followers, targets, account
filters, in local months."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.kpi.models import AccountSnapshot, KpiValue
from bot.kpi.queries import kpi_months
from bot.kpi.status import KpiMonth
from bot.kpi.values import record_value, set_target, upsert_posts
from tests.conftest import ADMIN, NOW
from tests.kpi.store_support import EARLY_NOV, LATE_OCT, NOV, OCT, make_post


async def test_derived_kpis_bucket_posts_by_local_month(
    sessions: async_sessionmaker[AsyncSession], kpi_settings: Settings
) -> None:
    async with sessions.begin() as session:
        await upsert_posts(
            session,
            [
                make_post("1", EARLY_NOV, impressions=1000, likes=20, comments=5, shares=5),  # eng 30
                make_post("2", NOW, impressions=3000, engagements=60),
                make_post("3", NOW, account="ig_recruit", impressions=1000, engagements=100),
                make_post("4", NOW, likes=7),  # no impressions: counted, but not in the rate
                make_post("5", LATE_OCT, impressions=500, engagements=10),
            ],
            source="import",
            now=NOW,
        )
    async with sessions() as session:
        result = await kpi_months(session, settings=kpi_settings, months=[OCT, NOV])
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
                await record_value(
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
            await record_value(
                session,
                kpi="recruiting_entries",
                month="2026-10",
                day=None,
                value=value,
                source="slack",
                user_id=ADMIN,
                now=NOW,
            )
        await record_value(
            session,
            kpi="recruiting_entries",
            month="2026-10",
            day=date(2026, 10, 5),
            value=99.0,
            source="import",
            user_id=None,
            now=NOW,
        )
        await set_target(session, kpi="recruiting_entries", month="2026-11", value=40, user_id=ADMIN, now=NOW)
        await set_target(session, kpi="recruiting_entries", month="2026-11", value=35, user_id=ADMIN, now=NOW)
    async with sessions() as session:
        result = await kpi_months(session, settings=kpi_settings, months=[OCT, NOV])
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
        result = await kpi_months(session, settings=kpi_settings, months=[OCT, NOV])
    # October: x 1000-900 (ig has no baseline); November: x +100, ig -20.
    assert [m.value for m in result["follower_growth"]] == [100.0, 80.0]


async def test_account_filters_and_follower_ties_from_one_read(
    sessions: async_sessionmaker[AsyncSession], kpi_settings: Settings
) -> None:
    """Two account filters (all, x_corp) over the same posts; a month asked for twice counts once;
    two follower counts at the same instant: the larger one is the month's last count."""
    async with sessions.begin() as session:
        await upsert_posts(
            session,
            [
                make_post("1", NOW, impressions=1000, engagements=50),
                make_post("2", NOW, account="ig_recruit", impressions=3000, engagements=30),
                make_post("3", LATE_OCT, account="ig_recruit", impressions=100, engagements=1),
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
        result = await kpi_months(session, settings=kpi_settings, months=[OCT, NOV, NOV])
    assert [m.value for m in result["posts_published"]] == [1.0, 2.0, 2.0]
    assert [m.value for m in result["engagement_rate"]] == [1.0, pytest.approx(2.0), pytest.approx(2.0)]
    assert [m.value for m in result["x_rate"]] == [None, pytest.approx(5.0), pytest.approx(5.0)]
    assert [m.value for m in result["follower_growth"]] == [None, 50.0, 50.0]
