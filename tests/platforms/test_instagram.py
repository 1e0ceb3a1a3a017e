"""InstagramClient against httpx.MockTransport answering in the Graph API's documented shapes."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.metrics import AccountCounts, Metrics
from bot.platforms.instagram import InstagramClient
from bot.runtime.platforms import AccountRef, PlatformError, PlatformErrorKind, PostRef

TOKEN = "EAAGm0PX4ZCpsBAKZCZBqH7ZBsecretZCtokenZDZD"
FEED = "18182686576415017"
REEL = "17990354830532458"
STORY = "17871698040164326"
FEED_METRICS = "reach,views,likes,comments,saved,shares,total_interactions"


def no_jitter(delay: float) -> float:
    return delay


@pytest.fixture
def make_client(mock_http, sleeps, clock):
    def make(handler, **kwargs) -> InstagramClient:
        return InstagramClient(
            mock_http(handler), access_token=TOKEN, sleep=sleeps, clock=clock, jitter=no_jitter, **kwargs
        )

    return make


@pytest.fixture
def graph(load_json):
    """A Graph API fake serving the fixture media; ``overrides[path]`` answers first (a list = in turn)."""

    class Graph:
        def __init__(self) -> None:
            self.requests: list[httpx.Request] = []
            self.overrides: dict[str, list[httpx.Response]] = {}
            self.media = {
                FEED: ("ig_media_feed.json", "ig_insights_feed.json"),
                REEL: ("ig_media_reel.json", "ig_insights_reel.json"),
                STORY: ("ig_media_story.json", "ig_insights_story.json"),
            }

        def __call__(self, request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            assert request.headers["authorization"] == f"Bearer {TOKEN}"
            assert TOKEN not in str(request.url)
            assert request.url.host == "graph.facebook.com"
            path = request.url.path.removeprefix("/v22.0/")
            queued = self.overrides.get(path)
            if queued:
                return queued.pop(0) if len(queued) > 1 else queued[0]
            media_id, _, edge = path.partition("/")
            media_file, insights_file = self.media[media_id]
            if edge == "insights":
                return httpx.Response(200, json=load_json(insights_file))
            assert dict(request.url.params) == {"fields": "media_type,media_product_type"}
            return httpx.Response(200, json=load_json(media_file))

        def insight_params(self) -> dict[str, str]:
            return {
                r.url.path.split("/")[2]: r.url.params["metric"]
                for r in self.requests
                if r.url.path.endswith("/insights")
            }

    return Graph()


def posts(*ids: str) -> list[PostRef]:
    return [PostRef(external_id=i, account_key="ig_corp") for i in ids]


def graph_error(
    load_json, name: str, status: int = 400, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=load_json(name), headers=headers)


async def test_insights_per_media_type(make_client, graph):
    result = await make_client(graph).fetch_post_metrics(posts(FEED, REEL, STORY))

    assert result.metrics == {
        FEED: Metrics(
            impressions=5000, reach=4000, engagements=370, likes=300, comments=20, shares=10, saves=40
        ),
        REEL: Metrics(
            impressions=18500,
            reach=12000,
            engagements=1188,
            likes=950,
            comments=41,
            shares=77,
            saves=120,
            video_views=18500,
        ),
        STORY: Metrics(impressions=950, reach=800, engagements=12, shares=3),
    }
    assert result.missing == []
    assert result.errors == []
    assert graph.insight_params() == {
        FEED: FEED_METRICS,
        REEL: FEED_METRICS,
        STORY: "reach,views,shares,total_interactions",
    }


async def test_deleted_media_is_missing(make_client, graph, load_json):
    deleted = "17999999999999999"
    graph.overrides[deleted] = [graph_error(load_json, "ig_error_deleted_media.json")]

    result = await make_client(graph).fetch_post_metrics(posts(FEED, deleted))

    assert list(result.metrics) == [FEED]
    assert result.missing == [deleted]
    assert result.errors == []


async def test_media_with_too_few_viewers_is_missing(make_client, graph, load_json):
    graph.overrides[f"{FEED}/insights"] = [graph_error(load_json, "ig_error_not_enough_viewers.json")]

    result = await make_client(graph).fetch_post_metrics(posts(FEED))

    assert result.metrics == {}
    assert result.missing == [FEED]
    assert result.errors == []


async def test_empty_insights_mean_missing_not_zero(make_client, graph):
    graph.overrides[f"{FEED}/insights"] = [httpx.Response(200, json={"data": []})]

    result = await make_client(graph).fetch_post_metrics(posts(FEED))

    assert result.metrics == {}
    assert result.missing == [FEED]
    assert result.errors == []


async def test_expired_token_is_one_auth_error_and_stops_the_run(make_client, graph, load_json, sleeps):
    ids = [str(17_900_000_000_000_000 + n) for n in range(6)]
    for media_id in ids:
        graph.overrides[media_id] = [graph_error(load_json, "ig_error_token_expired.json")]

    result = await make_client(graph, concurrency=1).fetch_post_metrics(posts(*ids))

    assert len(graph.requests) == 1
    assert sleeps.calls == []
    [error] = result.errors
    assert error.kind is PlatformErrorKind.AUTH
    assert error.code == "190/463"
    assert "Session has expired" in error.detail
    assert TOKEN not in str(error) and TOKEN not in repr(error)
    assert result.metrics == {} and result.missing == []


async def test_rate_limit_waits_for_the_buc_estimate_then_retries(make_client, graph, load_json, sleeps):
    usage = {
        "17841405309211844": [
            {
                "type": "instagram",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 14,
                "estimated_time_to_regain_access": 1,
            }
        ]
    }
    graph.overrides[f"{FEED}/insights"] = [
        graph_error(
            load_json, "ig_error_rate_limit.json", headers={"X-Business-Use-Case-Usage": json.dumps(usage)}
        ),
        httpx.Response(200, json=load_json("ig_insights_feed.json")),
    ]

    result = await make_client(graph).fetch_post_metrics(posts(FEED))

    assert sleeps.calls == [60.0]  # estimated_time_to_regain_access is in minutes
    assert result.metrics[FEED].reach == 4000
    assert result.errors == []


async def test_rate_limit_with_a_long_estimate_gives_up_with_retry_after(
    make_client, graph, load_json, sleeps
):
    usage = {
        "17841405309211844": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 30}]
    }
    graph.overrides[FEED] = [
        graph_error(
            load_json, "ig_error_rate_limit.json", headers={"X-Business-Use-Case-Usage": json.dumps(usage)}
        )
    ]

    result = await make_client(graph).fetch_post_metrics(posts(FEED))

    assert sleeps.calls == []
    [error] = result.errors
    assert error.kind is PlatformErrorKind.RATE_LIMITED
    assert error.retry_after == 1800.0


async def test_rate_limit_without_estimate_backs_off(make_client, graph, load_json, sleeps):
    app_usage = json.dumps({"call_count": 100, "total_time": 20, "total_cputime": 18})
    graph.overrides[FEED] = [
        graph_error(load_json, "ig_error_rate_limit.json", headers={"X-App-Usage": app_usage}),
        httpx.Response(200, json=load_json("ig_media_feed.json")),
    ]

    result = await make_client(graph).fetch_post_metrics(posts(FEED))

    assert sleeps.calls == [1.0]
    assert list(result.metrics) == [FEED]


async def test_a_retired_metric_is_dropped_and_the_call_repeated(make_client, graph, load_json):
    graph.overrides[f"{FEED}/insights"] = [
        graph_error(load_json, "ig_error_metric.json"),
        httpx.Response(200, json=load_json("ig_insights_feed.json")),
    ]

    result = await make_client(graph).fetch_post_metrics(posts(FEED))

    insight_calls = [r.url.params["metric"] for r in graph.requests if r.url.path.endswith("/insights")]
    assert insight_calls == [FEED_METRICS, "reach,likes,comments,saved,shares,total_interactions"]
    assert result.metrics[FEED].likes == 300
    assert result.errors == []


async def test_server_errors_forever_are_a_server_error(make_client, graph, sleeps):
    graph.overrides[f"{FEED}/insights"] = [
        httpx.Response(
            500,
            json={
                "error": {
                    "message": "An unknown error occurred",
                    "type": "OAuthException",
                    "code": 1,
                    "is_transient": True,
                }
            },
        )
    ]

    result = await make_client(graph, max_retries=2).fetch_post_metrics(posts(FEED))

    assert sleeps.calls == [1.0, 2.0]
    [error] = result.errors
    assert error.kind is PlatformErrorKind.SERVER
    assert error.code == "1"


async def test_html_answer_is_a_bad_response(make_client, graph, load_text):
    graph.overrides[FEED] = [
        httpx.Response(200, text=load_text("captive_portal.html"), headers={"content-type": "text/html"})
    ]

    result = await make_client(graph).fetch_post_metrics(posts(FEED))

    [error] = result.errors
    assert error.kind is PlatformErrorKind.BAD_RESPONSE
    assert result.metrics == {} and result.missing == []


async def test_odd_insight_entries_never_raise(make_client, graph):
    body = {
        "data": [
            {"name": "reach", "period": "lifetime", "values": [{"value": 4000}]},
            {"name": "likes", "period": "lifetime", "values": [{"value": {"count": 3}}]},
            {"name": "comments", "period": "lifetime", "values": []},
            {"name": "views", "period": "lifetime", "total_value": {"value": 5000}},
            {"period": "lifetime", "values": [{"value": 1}]},
            {"name": "follows", "period": "lifetime", "values": [{"value": 2}]},
        ]
    }
    graph.overrides[f"{FEED}/insights"] = [httpx.Response(200, json=body)]

    result = await make_client(graph).fetch_post_metrics(posts(FEED))

    assert result.metrics == {FEED: Metrics(reach=4000, impressions=5000)}
    [error] = result.errors
    assert error.kind is PlatformErrorKind.BAD_RESPONSE
    assert error.detail == (
        f"GET {FEED}/insights: media {FEED} insights.data[1](likes).value: unexpected dict; "
        f"media {FEED} insights.data[2](comments): no value; media {FEED} insights.data[4]: no name"
    )


async def test_calls_run_with_bounded_concurrency(mock_http, load_json, sleeps):
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(3):
            await asyncio.sleep(0)
        in_flight -= 1
        name = "ig_insights_feed.json" if request.url.path.endswith("/insights") else "ig_media_feed.json"
        return httpx.Response(200, json=load_json(name))

    ids = [str(17_900_000_000_000_000 + n) for n in range(10)]
    client = InstagramClient(mock_http(handler), access_token=TOKEN, concurrency=3, sleep=sleeps)
    result = await client.fetch_post_metrics(posts(*ids))

    assert peak == 3
    assert sorted(result.metrics) == ids


async def test_account_followers(make_client, load_json):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load_json("ig_user.json"))

    snapshot = await make_client(handler).fetch_account(
        AccountRef(key="ig_corp", platform_user_id="17841405309211844")
    )

    assert snapshot == AccountCounts(account_key="ig_corp", followers=12840)
    assert seen[0].url.path == "/v22.0/17841405309211844"
    assert dict(seen[0].url.params) == {"fields": "followers_count"}


async def test_account_with_expired_token_raises_auth(make_client, load_json):
    client = make_client(lambda request: graph_error(load_json, "ig_error_token_expired.json"))

    with pytest.raises(PlatformError) as caught:
        await client.fetch_account(AccountRef(key="ig_corp", platform_user_id="17841405309211844"))

    assert caught.value.kind is PlatformErrorKind.AUTH
    assert TOKEN not in str(caught.value)


async def test_account_without_followers_count_is_a_bad_response(make_client):
    client = make_client(lambda request: httpx.Response(200, json={"id": "17841405309211844"}))

    with pytest.raises(PlatformError) as caught:
        await client.fetch_account(AccountRef(key="ig_corp", platform_user_id="17841405309211844"))

    assert caught.value.kind is PlatformErrorKind.BAD_RESPONSE
    assert caught.value.detail == "GET 17841405309211844: user 17841405309211844.followers_count: missing"


def test_concurrency_must_be_positive(mock_http):
    with pytest.raises(ValueError):
        InstagramClient(mock_http(lambda request: httpx.Response(200)), access_token=TOKEN, concurrency=0)


def test_client_repr_hides_the_token(mock_http):
    client = InstagramClient(mock_http(lambda request: httpx.Response(200)), access_token=TOKEN)

    assert repr(client) == "InstagramClient(base_url='https://graph.facebook.com/v22.0/', concurrency=4)"
