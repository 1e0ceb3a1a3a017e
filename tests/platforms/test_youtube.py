"""YouTubeClient against httpx.MockTransport answering in the YouTube Data API v3's documented shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from bot.metrics import AccountCounts, Metrics
from bot.platforms.youtube import YouTubeClient, seconds_until_quota_reset
from bot.runtime.platforms import AccountRef, PlatformError, PlatformErrorKind, PostRef

KEY = "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"
CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"


def no_jitter(delay: float) -> float:
    return delay


@pytest.fixture
def make_client(mock_http, sleeps, clock):
    def make(handler, **kwargs) -> YouTubeClient:
        return YouTubeClient(
            mock_http(handler), api_key=KEY, sleep=sleeps, clock=clock, jitter=no_jitter, **kwargs
        )

    return make


def posts(*ids: str) -> list[PostRef]:
    return [PostRef(external_id=i, account_key="yt_corp") for i in ids]


def video(video_id: str, views: int) -> dict:
    return {
        "kind": "youtube#video",
        "etag": "e",
        "id": video_id,
        "statistics": {"viewCount": str(views), "likeCount": "1", "favoriteCount": "0", "commentCount": "0"},
    }


async def test_video_statistics_are_mapped_and_absent_ids_are_missing(make_client, load_json):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load_json("yt_videos.json"))

    result = await make_client(handler).fetch_post_metrics(posts("dQw4w9WgXcQ", "M7lc1UVf-VE", "deletedvid1"))

    request = seen[0]
    assert request.url.host == "www.googleapis.com"
    assert request.url.path == "/youtube/v3/videos"
    assert dict(request.url.params) == {"part": "statistics", "id": "dQw4w9WgXcQ,M7lc1UVf-VE,deletedvid1"}
    assert request.headers["x-goog-api-key"] == KEY
    assert KEY not in str(request.url)
    assert result.metrics == {
        "dQw4w9WgXcQ": Metrics(video_views=5000, likes=400, comments=20),
        # likes hidden and comments off: unknown, not zero, and not a bad response
        "M7lc1UVf-VE": Metrics(video_views=48),
    }
    assert result.missing == ["deletedvid1"]
    assert result.errors == []


async def test_ids_go_in_batches_of_50(make_client):
    ids = [f"vid{n:08d}" for n in range(120)]
    batches: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        batch = request.url.params["id"].split(",")
        batches.append(batch)
        return httpx.Response(
            200, json={"kind": "youtube#videoListResponse", "items": [video(i, 7) for i in batch]}
        )

    result = await make_client(handler).fetch_post_metrics(posts(*ids))

    assert [len(b) for b in batches] == [50, 50, 20]
    assert len(result.metrics) == 120
    assert result.metrics["vid00000119"] == Metrics(video_views=7, likes=1, comments=0)


async def test_quota_exceeded_stops_until_midnight_pacific(make_client, sleeps, load_json):
    requests = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal requests
        requests += 1
        return httpx.Response(403, json=load_json("yt_quota_exceeded.json"))

    ids = [f"vid{n:08d}" for n in range(60)]
    result = await make_client(handler).fetch_post_metrics(posts(*ids))

    assert requests == 1  # not retried, and the second batch is not tried
    assert sleeps.calls == []
    [error] = result.errors
    assert error.kind is PlatformErrorKind.QUOTA
    assert error.code == "quotaExceeded"
    # NOW is 2026-09-29 20:00 PDT: four hours to the reset
    assert error.retry_after == 4 * 3600.0


def test_quota_reset_follows_pacific_daylight_saving():
    # 2026-03-08 is the spring-forward day in Los Angeles; midnight after 2026-03-08 07:00 PST is 23 h away.
    assert seconds_until_quota_reset(datetime(2026, 3, 8, 8, 0, tzinfo=UTC)) == 23 * 3600.0
    assert seconds_until_quota_reset(datetime(2026, 1, 15, 7, 59, tzinfo=UTC)) == 60.0


async def test_rate_limit_exceeded_is_retried_with_backoff(make_client, sleeps, load_json):
    answers = iter(
        [
            httpx.Response(403, json=load_json("yt_rate_limited.json")),
            httpx.Response(200, json=load_json("yt_videos.json")),
        ]
    )

    result = await make_client(lambda request: next(answers)).fetch_post_metrics(posts("dQw4w9WgXcQ"))

    assert sleeps.calls == [1.0]
    assert result.metrics == {
        "dQw4w9WgXcQ": Metrics(video_views=5000, likes=400, comments=20)
    }  # only what was asked
    assert result.errors == []


async def test_invalid_key_is_auth(make_client, load_json, sleeps):
    result = await make_client(
        lambda request: httpx.Response(400, json=load_json("yt_key_invalid.json"))
    ).fetch_post_metrics(posts("dQw4w9WgXcQ"))

    [error] = result.errors
    assert error.kind is PlatformErrorKind.AUTH
    assert "API key not valid" in error.detail
    assert KEY not in str(error) and KEY not in repr(error)
    assert sleeps.calls == []


async def test_forbidden_is_auth(make_client, load_json):
    result = await make_client(
        lambda request: httpx.Response(403, json=load_json("yt_forbidden.json"))
    ).fetch_post_metrics(posts("dQw4w9WgXcQ"))

    assert [(e.kind, e.code) for e in result.errors] == [(PlatformErrorKind.AUTH, "forbidden")]


async def test_html_error_page_is_retried_as_server_error(make_client, sleeps, load_text):
    page = httpx.Response(502, text=load_text("gateway_502.html"), headers={"content-type": "text/html"})

    result = await make_client(lambda request: page, max_retries=2).fetch_post_metrics(posts("dQw4w9WgXcQ"))

    assert sleeps.calls == [1.0, 2.0]
    assert [e.kind for e in result.errors] == [PlatformErrorKind.SERVER]


async def test_non_json_success_is_a_bad_response(make_client):
    result = await make_client(lambda request: httpx.Response(200, text="")).fetch_post_metrics(
        posts("dQw4w9WgXcQ")
    )

    [error] = result.errors
    assert error.kind is PlatformErrorKind.BAD_RESPONSE
    assert result.metrics == {} and result.missing == []


async def test_wrong_types_become_none_and_one_bad_response(make_client):
    body = {
        "kind": "youtube#videoListResponse",
        "items": [
            {"id": "aaaaaaaaaaa", "statistics": {"viewCount": 12.5, "likeCount": "-", "commentCount": "3"}},
            {"id": "bbbbbbbbbbb", "statistics": ["not", "a", "mapping"]},
            {"id": 42},
        ],
    }

    result = await make_client(lambda request: httpx.Response(200, json=body)).fetch_post_metrics(
        posts("aaaaaaaaaaa", "bbbbbbbbbbb")
    )

    assert result.metrics == {"aaaaaaaaaaa": Metrics(video_views=None, likes=None, comments=3)}
    assert result.missing == ["bbbbbbbbbbb"]
    [error] = result.errors
    assert error.detail == (
        "GET videos: video aaaaaaaaaaa.statistics.viewCount: unexpected value 12.5; "
        "video aaaaaaaaaaa.statistics.likeCount: unexpected str; "
        "video bbbbbbbbbbb.statistics: unexpected list; items[2]: no id"
    )


async def test_channel_subscribers(make_client, load_json):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load_json("yt_channels.json"))

    snapshot = await make_client(handler).fetch_account(AccountRef(key="yt_corp", platform_user_id=CHANNEL))

    assert snapshot == AccountCounts(account_key="yt_corp", followers=12300)
    assert seen[0].url.path == "/youtube/v3/channels"
    assert dict(seen[0].url.params) == {"part": "statistics", "id": CHANNEL}


async def test_hidden_subscriber_count_is_none(make_client):
    body = {
        "kind": "youtube#channelListResponse",
        "items": [
            {
                "kind": "youtube#channel",
                "id": CHANNEL,
                "statistics": {"viewCount": "10", "hiddenSubscriberCount": True, "videoCount": "2"},
            }
        ],
    }

    snapshot = await make_client(lambda request: httpx.Response(200, json=body)).fetch_account(
        AccountRef(key="yt_corp", platform_user_id=CHANNEL)
    )

    assert snapshot == AccountCounts(account_key="yt_corp", followers=None)


async def test_unknown_channel_is_not_found(make_client):
    body = {"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 0, "resultsPerPage": 5}}

    with pytest.raises(PlatformError) as caught:
        await make_client(lambda request: httpx.Response(200, json=body)).fetch_account(
            AccountRef(key="yt_corp", platform_user_id=CHANNEL)
        )

    assert caught.value.kind is PlatformErrorKind.NOT_FOUND


async def test_channel_quota_error_raises_quota(make_client, load_json):
    with pytest.raises(PlatformError) as caught:
        await make_client(
            lambda request: httpx.Response(403, json=load_json("yt_quota_exceeded.json"))
        ).fetch_account(AccountRef(key="yt_corp", platform_user_id=CHANNEL))

    assert caught.value.kind is PlatformErrorKind.QUOTA
    assert KEY not in repr(caught.value)


async def test_a_handle_is_looked_up_as_its_channel_id(make_client):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("forHandle") == "@GoogleDevelopers":
            body = {
                "kind": "youtube#channelListResponse",
                "etag": "abc",
                "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
                "items": [{"kind": "youtube#channel", "etag": "def", "id": "UC_x5XG1OV2P6uZZ5FSM9Ttw"}],
            }
            return httpx.Response(200, json=body)
        return httpx.Response(
            200, json={"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 0}}
        )

    client = make_client(handler)
    assert await client.lookup_user_id("GoogleDevelopers") == "UC_x5XG1OV2P6uZZ5FSM9Ttw"
    assert seen[0].url.path == "/youtube/v3/channels"
    assert dict(seen[0].url.params) == {"part": "id", "forHandle": "@GoogleDevelopers"}
    assert seen[0].headers["X-Goog-Api-Key"] == KEY and "key" not in seen[0].url.params
    with pytest.raises(PlatformError) as unknown:
        await client.lookup_user_id("@nobody-here")
    assert unknown.value.kind is PlatformErrorKind.NOT_FOUND
    with pytest.raises(PlatformError) as impossible:
        await client.lookup_user_id("@a b/c")
    assert impossible.value.kind is PlatformErrorKind.NOT_FOUND
    assert len(seen) == 2  # the impossible handle never went out
