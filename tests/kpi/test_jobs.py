"""Collector job with the real X client over httpx.MockTransport: success, 429, a rejected token told once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from bot.config import Settings
from bot.i18n import translator
from bot.kpi import run_errors
from bot.kpi.ids import JobId
from bot.kpi.jobs import collect_all, register_jobs
from bot.kpi.models import AccountSnapshot, CollectorRun, Post
from bot.kpi.records import PostRecord
from bot.kpi.values import upsert_posts
from bot.platforms.x import XClient
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, NOW, TEST_ENV, make_settings
from tests.fakes.slack import FakeSlack

DATA = Path(__file__).parent.parent / "platforms" / "data"
TWEET_A, TWEET_B, OLD = "1460323737035677698", "1463534116817846278", "1400000000000000000"
JOBS_TWEET = "1500000000000000001"


def _json(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


def _add_jobs_account(raw: dict[str, Any]) -> None:
    # Neither a user id nor a handle to look one up by: only its stored posts are measured.
    raw["accounts"].append({"key": "x_jobs", "platform": "x", "name": "X 採用"})


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    env = {**TEST_ENV, "X_BEARER_TOKEN": "x-bearer-token-one"}
    return make_settings(db_url=db_url, api_url=fake_slack.api_url, env=env, change=_add_jobs_account)


@pytest.fixture
async def http() -> AsyncIterator[Callable[[Callable[[httpx.Request], httpx.Response]], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def make(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
        clients.append(httpx.AsyncClient(transport=httpx.MockTransport(handler)))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


class _Clock:
    def now(self) -> datetime:
        return NOW


async def _no_sleep(_seconds: float) -> None:
    return None


def _x(http: httpx.AsyncClient) -> XClient:
    return XClient(
        http, bearer_token="x-bearer-token-one", sleep=_no_sleep, clock=_Clock(), jitter=lambda d: d
    )


async def _seed(deps: Deps) -> None:
    async with deps.sessions.begin() as session:
        await upsert_posts(
            session,
            [
                PostRecord("x", TWEET_A, NOW - timedelta(days=2), account_key="x_corp"),
                PostRecord("x", TWEET_B, NOW - timedelta(days=10), account_key="x_corp"),
                PostRecord("x", OLD, NOW - timedelta(days=90), account_key="x_corp"),
                PostRecord("x", JOBS_TWEET, NOW - timedelta(days=1), account_key="x_jobs"),
            ],
            source="import",
            now=NOW - timedelta(days=1),
        )


async def _collect(deps: Deps, client: XClient) -> Any:
    return await collect_all(
        sessions=deps.sessions, settings=deps.settings, platforms={"x": client}, slack=deps.slack, now=NOW
    )


async def test_success_refreshes_recent_posts_and_followers(deps: Deps, http: Any) -> None:
    await _seed(deps)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/2/users/12345":
            return httpx.Response(200, json=_json("x_user.json"))
        if request.url.path == "/2/users/12345/tweets":
            return httpx.Response(200, json={"meta": {"result_count": 0}})  # nothing new on the timeline
        ids = request.url.params["ids"].split(",")
        body = _json("x_tweets.json") if TWEET_A in ids else {"data": []}
        return httpx.Response(200, json=body)

    (outcome,) = await _collect(deps, _x(http(handler)))
    assert (outcome.platform, outcome.status, outcome.posts_updated, outcome.followers_stored) == (
        "x",
        "ok",
        2,
        1,
    )
    tweet_calls = [r.url.params["ids"] for r in seen if r.url.path == "/2/tweets"]
    assert sorted(tweet_calls) == sorted(
        [f"{TWEET_A},{TWEET_B}", JOBS_TWEET]
    )  # the 90-day-old post is not asked for
    assert all(r.headers["authorization"] == "Bearer x-bearer-token-one" for r in seen)
    async with deps.sessions() as session:
        post = await session.scalar(select(Post).where(Post.external_id == TWEET_A))
        followers = (await session.scalars(select(AccountSnapshot))).one()
        run = (await session.scalars(select(CollectorRun))).one()
    assert post is not None
    # shares = retweets + quotes; engagements = likes + replies + shares + bookmarks.
    assert (post.impressions, post.likes, post.comments, post.shares, post.saves, post.engagements) == (
        15200,
        892,
        23,
        168,
        34,
        1117,
    )
    assert (followers.account_key, followers.followers, followers.source) == ("x_corp", 570842, "api")
    assert (run.platform, run.status, run.posts_updated, run.error, run.finished_at) == (
        "x",
        "ok",
        2,
        None,
        NOW,
    )


async def test_rate_limited_account_does_not_stop_the_others(
    deps: Deps, http: Any, fake_slack: FakeSlack
) -> None:
    await _seed(deps)
    reset = int((NOW + timedelta(hours=1)).timestamp())

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/2/users/12345":
            return httpx.Response(200, json=_json("x_user.json"))
        if request.url.path == "/2/users/12345/tweets":
            return httpx.Response(200, json={"meta": {"result_count": 0}})
        if JOBS_TWEET in request.url.params["ids"]:
            body = {
                "data": [
                    {
                        "id": JOBS_TWEET,
                        "text": "t",
                        "public_metrics": {
                            "impression_count": 70,
                            "like_count": 7,
                            "retweet_count": 1,
                            "quote_count": 0,
                            "reply_count": 2,
                            "bookmark_count": 0,
                        },
                    }
                ]
            }
            return httpx.Response(200, json=body)
        return httpx.Response(
            429, json=_json("x_too_many_requests.json"), headers={"x-rate-limit-reset": str(reset)}
        )

    (outcome,) = await _collect(deps, _x(http(handler)))
    assert (outcome.status, outcome.posts_updated, outcome.followers_stored) == ("partial", 1, 1)
    assert [e.key for e in outcome.errors] == ["platforms.errors.rate_limited"]
    async with deps.sessions() as session:
        jobs_post = await session.scalar(select(Post).where(Post.external_id == JOBS_TWEET))
        run = (await session.scalars(select(CollectorRun))).one()
    assert jobs_post is not None and (jobs_post.impressions, jobs_post.likes) == (70, 7)
    assert run.status == "partial"
    # Stored as keys, so each admin reads it on the App Home in their own language.
    assert run.error is not None
    assert run_errors.render(run.error, translator("ja")) == outcome.errors[0].render(translator("ja"))
    assert run_errors.render(run.error, translator("ja")).endswith("約61分後に再試行できます。")
    assert run_errors.render(run.error, translator("en")) == outcome.errors[0].render(translator("en"))
    assert fake_slack.calls_to("chat.postMessage") == []  # rate limits are not the admins' problem


async def test_rejected_token_is_reported_to_admins_once_per_token(
    deps: Deps, http: Any, fake_slack: FakeSlack, db_url: str
) -> None:
    await _seed(deps)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json=_json("x_unauthorized.json"))

    client = _x(http(handler))
    for _ in range(2):
        (outcome,) = await _collect(deps, client)
        assert (outcome.status, outcome.posts_updated) == ("failed", 0)
    dms = fake_slack.calls_to("chat.postMessage")
    assert [c.params["channel"] for c in dms] == [ADMIN]
    assert dms[0].params["text"].startswith(":warning: X からの指標の収集が止まっています。")
    async with deps.sessions() as session:
        runs = (await session.scalars(select(CollectorRun).order_by(CollectorRun.id))).all()
    assert [r.status for r in runs] == ["failed", "failed"]

    # A newly issued token that is rejected too is news again.
    renewed = make_settings(
        db_url=db_url,
        api_url=fake_slack.api_url,
        env={**TEST_ENV, "X_BEARER_TOKEN": "x-bearer-token-two"},
        change=_add_jobs_account,
    )
    await collect_all(
        sessions=deps.sessions, settings=renewed, platforms={"x": client}, slack=deps.slack, now=NOW
    )
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_job_is_registered_daily_in_the_configured_zone(deps: Deps) -> None:
    scheduler = AsyncIOScheduler(timezone=deps.settings.tz)
    register_jobs(scheduler, deps)
    assert scheduler.get_jobs() == []  # no tokens, no collector job
    with_x = Deps(
        **{**{f: getattr(deps, f) for f in Deps.__dataclass_fields__}, "platforms": {"x": object()}}
    )  # type: ignore[dict-item]
    register_jobs(scheduler, with_x)
    (job,) = scheduler.get_jobs()
    assert job.id == JobId.COLLECT
    fire = job.trigger.get_next_fire_time(None, NOW)
    assert fire == datetime(2026, 11, 18, 21, 30, tzinfo=UTC)  # 06:30 JST on the 19th
