"""An Instagram post marked as published through a review is measured at once when a token is set:
its shortcode is resolved to the media id through the Graph API (the account's media list, matched by
permalink) and its insights are stored on the review's row (the Graph API over httpx.MockTransport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_deps
from bot.clock import FixedClock
from bot.config import Settings
from bot.kpi.models import Post
from bot.kpi.values import sync_accounts
from bot.platforms.instagram import InstagramClient
from bot.review.models import ReviewRequest
from bot.runtime.deps import Deps
from bot.slack.client import build_web_client
from tests.conftest import BOT_TOKEN, NOW, OPERATOR, TEST_ENV, make_settings
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.scenarios.test_published_post import review_approve_publish

IG_USER, MEDIA_ID, SHORTCODE = "17841405309211844", "18182686576415017", "Ddr9jGEmLMp"
REEL_URL = f"https://www.instagram.com/reel/{SHORTCODE}/?igsh=MWQ1ZGUxMzBkMA=="


def _with_ig_user(raw: dict[str, Any]) -> None:
    raw["accounts"][1]["platform_id"] = IG_USER


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    env = {**TEST_ENV, "INSTAGRAM_ACCESS_TOKEN": "ig-token"}
    return make_settings(db_url=db_url, api_url=fake_slack.api_url, env=env, change=_with_ig_user)


@pytest.fixture
async def graph() -> AsyncIterator[tuple[httpx.AsyncClient, list[httpx.Request]]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path.removeprefix("/v22.0/")
        if path == f"{IG_USER}/media":
            media = {
                "id": MEDIA_ID,
                "caption": "冬の限定ブレンドが登場しました",
                "media_type": "VIDEO",
                "media_product_type": "REELS",
                "permalink": f"https://www.instagram.com/reel/{SHORTCODE}/",
                "timestamp": "2026-11-18T00:58:00+0000",
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
                    "id": f"{MEDIA_ID}/insights/{name}/lifetime",
                }
                for name, value in (
                    ("reach", 400),
                    ("views", 520),
                    ("likes", 41),
                    ("comments", 3),
                    ("saved", 2),
                )
            ]
            return httpx.Response(200, json={"data": data})
        return httpx.Response(
            400, json={"error": {"message": "unexpected call", "type": "OAuthException", "code": 100}}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        yield http, seen


@pytest.fixture
async def deps(
    settings: Settings,
    engine: AsyncEngine,
    fake_slack: FakeSlack,
    graph: tuple[httpx.AsyncClient, list[httpx.Request]],
) -> Deps:
    clock = FixedClock(NOW)
    client = InstagramClient(graph[0], access_token="ig-token", clock=clock)
    deps = build_deps(
        settings,
        clock=clock,
        engine=engine,
        slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
        platforms={"instagram": client},
    )
    async with deps.sessions.begin() as session:
        await sync_accounts(session, accounts=settings.accounts)
    return deps


async def test_a_published_reel_is_resolved_and_measured_at_once(
    sender: SlackSender,
    fake_slack: FakeSlack,
    deps: Deps,
    graph: tuple[httpx.AsyncClient, list[httpx.Request]],
) -> None:
    await review_approve_publish(sender, fake_slack, account="ig_recruit", url=REEL_URL)
    await deps.inflight.drain(10)  # the measuring runs after the ack

    async with deps.sessions() as session:
        request = await session.scalar(select(ReviewRequest))
        posts = (await session.scalars(select(Post))).all()
    assert request is not None and len(posts) == 1
    (post,) = posts
    assert (post.external_id, post.author, post.review_request_id) == (MEDIA_ID, OPERATOR, request.id)
    assert (post.reach, post.impressions, post.likes, post.saves, post.video_views) == (400, 520, 41, 2, 520)
    paths = [r.url.path.removeprefix("/v22.0/") for r in graph[1]]
    assert paths == [f"{IG_USER}/media", MEDIA_ID, f"{MEDIA_ID}/insights"]
    assert all(r.headers["authorization"] == "Bearer ig-token" for r in graph[1])
