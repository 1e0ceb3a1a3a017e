"""`sns-bot collect` finds new posts: X's timeline lists a post the store does not know (stored, with
its metrics, without a second lookup), Instagram's media list gives a post published through a review
(keyed by its URL) its media id, whose insights are then collected; what each run did is printed and
recorded for the App Home."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot import db
from bot.clock import FixedClock
from bot.config import Settings
from bot.kpi.models import Account, CollectorRun, Post
from bot.kpi.published import record_published_post
from bot.kpi.records import PostRecord
from bot.kpi.values import sync_accounts, upsert_posts
from bot.platforms.instagram import InstagramClient
from bot.platforms.x import XClient
from tests.conftest import NOW, OPERATOR, TEST_ENV, make_settings
from tests.kpi.cli_support import run_collect

KNOWN, NEW = "2122000000000000001", "2122857317790646272"
MEDIA_ID, SHORTCODE, IG_USER = "18182686576415017", "Ddr9jGEmLMp", "17841405309211844"


def _with_ig_user(raw: dict[str, Any]) -> None:
    raw["accounts"][1]["platform_id"] = IG_USER


@pytest.fixture
def settings(unmigrated_db_url: str) -> Settings:
    env = {**TEST_ENV, "X_BEARER_TOKEN": "x-token", "INSTAGRAM_ACCESS_TOKEN": "ig-token"}
    return make_settings(db_url=unmigrated_db_url, env=env, change=_with_ig_user)


@pytest.fixture
async def http() -> AsyncIterator[Callable[[Callable[[httpx.Request], httpx.Response]], httpx.AsyncClient]]:
    clients: list[httpx.AsyncClient] = []

    def make(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
        clients.append(httpx.AsyncClient(transport=httpx.MockTransport(handler)))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


async def _no_sleep(_seconds: float) -> None:
    return None


def _tweet(post_id: str, likes: int) -> dict[str, Any]:
    return {
        "id": post_id,
        "text": "新サービスのお知らせ",
        "created_at": "2026-11-17T01:00:00.000Z",
        "public_metrics": {
            "retweet_count": 1,
            "reply_count": 2,
            "like_count": likes,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 1000,
        },
    }


def _x_handler(seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/2/users/12345/tweets":
            body = {"data": [_tweet(NEW, 40), _tweet(KNOWN, 12)], "meta": {"result_count": 2}}
            return httpx.Response(200, json=body, headers={"x-rate-limit-remaining": "899"})
        if request.url.path == "/2/users/12345":
            return httpx.Response(
                200, json={"data": {"id": "12345", "public_metrics": {"followers_count": 5000}}}
            )
        return httpx.Response(500, json={"title": "unexpected call"})

    return handler


def _ig_handler(seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path.removeprefix("/v22.0/")
        if path == f"{IG_USER}/media":
            media = {
                "id": MEDIA_ID,
                "caption": "冬の新商品です",
                "media_type": "VIDEO",
                "media_product_type": "REELS",
                "permalink": f"https://www.instagram.com/reel/{SHORTCODE}/",
                "timestamp": "2026-11-17T03:00:00+0000",
                "like_count": 40,
                "comments_count": 3,
            }
            return httpx.Response(200, json={"data": [media], "paging": {"cursors": {"after": "QVFIUk"}}})
        if path == MEDIA_ID:
            return httpx.Response(
                200, json={"media_type": "VIDEO", "media_product_type": "REELS", "id": MEDIA_ID}
            )
        if path == f"{MEDIA_ID}/insights":
            data = [
                {
                    "name": name,
                    "period": "lifetime",
                    "values": [{"value": value}],
                    "id": f"{MEDIA_ID}/insights/{name}",
                }
                for name, value in (("reach", 4000), ("views", 5000), ("likes", 41), ("comments", 3))
            ]
            return httpx.Response(200, json={"data": data})
        if path == IG_USER:
            return httpx.Response(200, json={"followers_count": 12840, "id": IG_USER})
        return httpx.Response(400, json={"error": {"message": "unexpected call", "code": 100}})

    return handler


async def test_collect_discovers_new_posts_and_resolves_a_reviewed_instagram_post(
    settings: Settings, http: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    url = settings.database.url
    await db.migrate(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    async with sessions.begin() as session:
        await sync_accounts(session, accounts=settings.accounts)
        await upsert_posts(
            session,
            [PostRecord("x", KNOWN, NOW - timedelta(days=1), account_key="x_corp")],
            source="import",
            now=NOW - timedelta(days=1),
        )
        reviewed = await record_published_post(
            session,
            account_key="ig_recruit",
            platform="instagram",
            url=f"https://instagram.com/p/{SHORTCODE}",
            published_at=NOW - timedelta(days=1),
            text="冬の新商品です",
            author=OPERATOR,
            review_request_id=3,
            now=NOW - timedelta(days=1),
        )
    assert reviewed is not None and reviewed.external_id == f"https://instagram.com/p/{SHORTCODE}"
    x_seen: list[httpx.Request] = []
    ig_seen: list[httpx.Request] = []
    clock = FixedClock(NOW)
    clients = {
        "x": XClient(http(_x_handler(x_seen)), bearer_token="x-token", sleep=_no_sleep, clock=clock),
        "instagram": InstagramClient(
            http(_ig_handler(ig_seen)), access_token="ig-token", sleep=_no_sleep, clock=clock
        ),
    }

    code = await run_collect(settings, account=None, clock=clock, platforms=clients)

    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert (
        "Instagram: 完了 — 投稿 1 件を計測（新規 0 件）、1 件を更新、フォロワー数 1 件を記録しました。" in out
    )
    assert "X: 完了 — 投稿 2 件を計測（新規 1 件）、2 件を更新、フォロワー数 1 件を記録しました。" in out
    # The timeline carried the metrics: no GET /2/tweets lookup of the same posts.
    assert [r.url.path for r in x_seen] == ["/2/users/12345/tweets", "/2/users/12345"]
    async with sessions() as session:
        posts = {p.external_id: p for p in (await session.scalars(select(Post))).all()}
        runs = {r.platform: r for r in (await session.scalars(select(CollectorRun))).all()}
    await engine.dispose()
    assert set(posts) == {KNOWN, NEW, MEDIA_ID}
    assert (posts[NEW].likes, posts[NEW].impressions, posts[NEW].source, posts[KNOWN].likes) == (
        40,
        1000,
        "api",
        12,
    )
    reel = posts[MEDIA_ID]
    assert (reel.author, reel.review_request_id, reel.reach, reel.impressions, reel.video_views) == (
        OPERATOR,
        3,
        4000,
        5000,
        5000,
    )
    assert (runs["x"].posts_seen, runs["x"].posts_new, runs["x"].status) == (2, 1, "ok")
    assert (runs["instagram"].posts_seen, runs["instagram"].posts_new) == (1, 0)


def _by_handle(seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    timeline = _x_handler(seen)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/2/users/by/username/example_corp":
            seen.append(request)
            user = {"id": "12345", "name": "Example Corp", "username": "example_corp"}
            return httpx.Response(200, json={"data": user})
        return timeline(request)

    return handler


async def test_x_discovery_looks_the_handle_up_once_when_no_user_id_is_configured(
    unmigrated_db_url: str, http: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    def without_user_id(raw: dict[str, Any]) -> None:
        del raw["accounts"][0]["platform_id"]

    env = {**TEST_ENV, "X_BEARER_TOKEN": "x-token"}
    settings = make_settings(db_url=unmigrated_db_url, env=env, change=without_user_id)
    assert settings.accounts[0].platform_id is None
    seen: list[httpx.Request] = []
    clock = FixedClock(NOW)
    client = XClient(http(_by_handle(seen)), bearer_token="x-token", sleep=_no_sleep, clock=clock)

    assert await run_collect(settings, account=None, clock=clock, platforms={"x": client}) == 0
    assert "X: 完了 — 投稿 2 件を計測（新規 2 件）、2 件を更新、フォロワー数 1 件を記録しました。" in (
        capsys.readouterr().out.splitlines()
    )
    assert [r.url.path for r in seen] == [
        "/2/users/by/username/example_corp",
        "/2/users/12345/tweets",
        "/2/users/12345",
    ]
    # The next run (any replica, after a restart) uses the stored id: no second lookup.
    seen.clear()
    assert await run_collect(settings, account=None, clock=clock, platforms={"x": client}) == 0
    assert [r.url.path for r in seen] == ["/2/users/12345/tweets", "/2/users/12345"]
    engine = db.make_engine(settings.database.url)
    try:
        async with db.make_sessionmaker(engine)() as session:
            stored = await session.scalar(select(Account.platform_user_id).where(Account.key == "x_corp"))
            posts = set((await session.scalars(select(Post.external_id))).all())
    finally:
        await engine.dispose()
    assert stored == "12345" and posts == {KNOWN, NEW}

    # Another handle in the config: the stored id was for the old one, so it is looked up afresh.
    def renamed(raw: dict[str, Any]) -> None:
        without_user_id(raw)
        raw["accounts"][0]["handle"] = "@example_corp_jp"

    moved = make_settings(db_url=unmigrated_db_url, env=env, change=renamed)
    seen.clear()
    assert await run_collect(moved, account=None, clock=clock, platforms={"x": client}) == 1
    assert [r.url.path for r in seen][0] == "/2/users/by/username/example_corp_jp"
    assert "/2/users/12345/tweets" not in [r.url.path for r in seen]


async def test_a_handle_x_does_not_know_is_reported_and_the_rest_still_runs(
    unmigrated_db_url: str, http: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    def without_user_id(raw: dict[str, Any]) -> None:
        del raw["accounts"][0]["platform_id"]

    env = {**TEST_ENV, "X_BEARER_TOKEN": "x-token"}
    settings = make_settings(db_url=unmigrated_db_url, env=env, change=without_user_id)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"errors": [{"title": "Not Found Error", "detail": "no user"}]})

    clock = FixedClock(NOW)
    client = XClient(http(handler), bearer_token="x-token", sleep=_no_sleep, clock=clock)
    assert await run_collect(settings, account=None, clock=clock, platforms={"x": client}) == 1
    out = capsys.readouterr()
    assert "X: 失敗" in out.out and "users/by/username/example_corp" in out.err
    assert [r.url.path for r in seen] == ["/2/users/by/username/example_corp"]


async def test_a_youtube_channel_is_found_by_its_handle_once(unmigrated_db_url: str, http: Any) -> None:
    from bot.kpi.user_ids import with_user_ids
    from bot.platforms.youtube import YouTubeClient

    def youtube_by_handle(raw: dict[str, Any]) -> None:
        raw["accounts"].append({"key": "yt_main", "platform": "youtube", "handle": "@example_tv"})

    settings = make_settings(db_url=unmigrated_db_url, change=youtube_by_handle)
    await db.migrate(settings.database.url)
    engine = db.make_engine(settings.database.url)
    sessions = db.make_sessionmaker(engine)
    async with sessions.begin() as session:
        await sync_accounts(session, accounts=settings.accounts)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        items = [{"kind": "youtube#channel", "etag": "e", "id": "UCexampleTV0123456789abc"}]
        return httpx.Response(200, json={"kind": "youtube#channelListResponse", "items": items})

    client = YouTubeClient(http(handler), api_key="yt-key", sleep=_no_sleep, clock=FixedClock(NOW))
    accounts = [a for a in settings.accounts if a.platform == "youtube"]
    try:
        for _run in range(2):
            errors: list[Any] = []
            (account,) = await with_user_ids(sessions, client, accounts, errors=errors)
            assert (account.platform_id, errors) == ("UCexampleTV0123456789abc", [])
        async with sessions() as session:
            stored = await session.scalar(select(Account.platform_user_id).where(Account.key == "yt_main"))
    finally:
        await engine.dispose()
    assert stored == "UCexampleTV0123456789abc"
    assert [dict(r.url.params) for r in seen] == [{"part": "id", "forHandle": "@example_tv"}]  # asked once
