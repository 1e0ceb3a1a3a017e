"""The store answers the digests' post questions in SQL (count, best posts, authors): on SQLite and
PostgreSQL it must agree with the obvious answer computed from every post (``tests.digest.reference``),
on a week built to trip a ranking up: equal rates from different fractions, equal engagements, equal
times, posts without impressions or engagements, under the floor, and just outside the week."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import make_sessionmaker, unit_of_work
from bot.digest.compose import PostFact, compose_monthly, compose_weekly, shout_outs, top_posts
from bot.digest.service import fetch_facts
from bot.kpi.records import PostRecord
from bot.kpi.values import sync_accounts, upsert_posts
from bot.metrics import Metrics
from bot.periods import parse_period
from tests.conftest import make_settings
from tests.digest.reference import post_facts, shout_outs_by_hand

WEEK = parse_period("weekly", "2026-W47")  # Mon 2026-11-16 .. Sun 11-22, Tokyo
PEOPLE = ["U0ALICE01", "U0BOB0001", "W0CAROL01", "Example Corp", "公式アカウント", None]
#: (impressions, engagements) pairs whose ratios tie (0.042 three ways, 0.25 two ways) or are undefined.
FIGURES = [(5000, 210), (1000, 42), (500, 21), (80, 20), (400, 100), (2000, 50), (0, 0), (None, None),
           (1000, None), (None, 7), (100, 0), (100, 100), (3000, 126), (1000, 42)]  # fmt: skip


def _week_posts(seed: int) -> list[PostRecord]:
    rnd = random.Random(seed)
    start, end = WEEK.bounds_utc(make_settings().tz)
    times = [start + timedelta(hours=rnd.randrange(0, 24 * 7)) for _ in range(12)]
    records = []
    for n in range(90):
        impressions, engagements = rnd.choice(FIGURES)
        at = rnd.choice(times)  # shared times: the tie after rate and engagements
        if n % 30 == 0:
            at = start - timedelta(microseconds=1)  # the Sunday before: not this week
        if n % 30 == 1:
            at = end  # the next Monday 00:00 Tokyo: not this week either
        records.append(
            PostRecord(
                platform="x",
                external_id=str(n),
                published_at=at,
                url=f"https://x.com/example_corp/status/{n}",
                text=f"投稿 {n}",
                account_key="x_corp",
                author=rnd.choice(PEOPLE),
                metrics=Metrics(impressions=impressions, engagements=engagements),
            )
        )
    return records


@pytest.mark.parametrize("floor", [100, 0])  # 0: posts with 0 impressions have no rate (no division by 0)
async def test_the_stores_answers_are_the_obvious_ones(engine: AsyncEngine, floor: int) -> None:
    settings = make_settings(
        change=lambda raw: raw["digest"].update(weekly={"top_posts": 20, "min_impressions": floor})
    )
    records = _week_posts(seed=47)
    sessions = make_sessionmaker(engine)
    async with unit_of_work(sessions, write=True) as session:
        await sync_accounts(session, accounts=settings.accounts)
        await upsert_posts(session, records, source="import", now=WEEK.bounds_utc(settings.tz)[1])
    async with unit_of_work(sessions) as session:
        facts = await fetch_facts(session, period=WEEK, settings=settings)

    start, end = WEEK.bounds_utc(settings.tz)
    every = [
        PostFact(
            "x_corp", r.url, r.text, r.author, r.published_at, r.metrics.impressions, r.metrics.engagements
        )
        for r in records
        if start <= r.published_at < end
    ]
    expected = top_posts(every, min_impressions=floor, limit=20)
    assert facts.posts_published == len(every) == 84
    assert top_posts(facts.best_posts, min_impressions=floor, limit=20) == expected
    assert len(expected) == 20 and len({t.rate for t in expected}) < 20  # the week does have ties
    weekly = compose_weekly(facts, min_impressions=floor, top_n=20)
    assert weekly.top_posts == expected
    assert weekly.authors == shout_outs_by_hand(every, [])
    monthly = compose_monthly(facts, kpis=(), history={}, min_impressions=floor, best_n=3)
    assert monthly.best_posts == expected[:3]
    assert monthly.posts_published == 84


@given(
    posts=st.lists(
        st.tuples(st.sampled_from(PEOPLE), st.integers(0, 40)),  # author, hours into the week
        max_size=30,
    ),
    requesters=st.lists(st.sampled_from(["U0ALICE01", "U0DAVE001", ""]), max_size=6),
)
def test_shout_outs_from_author_counts_match_the_list_of_every_post(
    posts: list[tuple[str | None, int]], requesters: list[str]
) -> None:
    start = WEEK.bounds_utc(make_settings().tz)[0]
    every = [PostFact("x_corp", None, "", a, start + timedelta(hours=h), None, None) for a, h in posts]
    assert shout_outs(post_facts(every)["authors"], requesters) == shout_outs_by_hand(every, requesters)
