"""Finding an account's recent posts against httpx.MockTransport answering in each API's documented
shapes: X user timeline (``meta.next_token``, ``x-rate-limit-*``), Instagram ``/{ig-user-id}/media``
(``paging.cursors.after``, usage headers), YouTube uploads playlist (``channels.list`` contentDetails →
``playlistItems.list``, quota)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.metrics import Metrics
from bot.platforms.instagram import InstagramClient
from bot.platforms.x import XClient
from bot.platforms.youtube import YouTubeClient
from bot.runtime.platforms import AccountRef, PlatformErrorKind
from tests.platforms.conftest import NOW

SINCE = NOW - timedelta(days=30)
X_ACCOUNT = AccountRef("x_corp", "2244994945")
IG_ACCOUNT = AccountRef("ig_recruit", "17841405309211844")
YT_ACCOUNT = AccountRef("yt_corp", "UC_x5XG1OV2P6uZZ5FSM9Ttw")


def _no_jitter(delay: float) -> float:
    return delay


def _tweet(post_id: str, created: str, likes: int) -> dict[str, Any]:
    return {
        "id": post_id,
        "text": f"post {post_id}",
        "created_at": created,
        "edit_history_tweet_ids": [post_id],
        "public_metrics": {
            "retweet_count": 2,
            "reply_count": 1,
            "like_count": likes,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 900,
        },
    }


async def test_x_timeline_pages_until_the_window_is_used_up(mock_http: Any, sleeps: Any, clock: Any) -> None:
    seen: list[httpx.Request] = []
    reset = int((NOW + timedelta(minutes=14)).timestamp())

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.url.path == "/2/users/2244994945/tweets"
        if "pagination_token" not in request.url.params:
            body = {
                "data": [_tweet("1840000000000000002", "2026-09-29T10:00:00.000Z", 30)],
                "meta": {"result_count": 1, "next_token": "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"},
            }
            headers = {
                "x-rate-limit-limit": "900",
                "x-rate-limit-remaining": "1",
                "x-rate-limit-reset": str(reset),
            }
        else:
            body = {
                "data": [_tweet("1840000000000000001", "2026-09-20T10:00:00.000Z", 5)],
                "meta": {"result_count": 1, "next_token": "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5j"},
            }
            headers = {
                "x-rate-limit-limit": "900",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(reset),
            }
        return httpx.Response(200, json=body, headers=headers)

    client = XClient(mock_http(handler), bearer_token="x-token", sleep=sleeps, clock=clock, jitter=_no_jitter)
    result = await client.discover_posts(X_ACCOUNT, since=SINCE)

    assert [p.external_id for p in result.posts] == ["1840000000000000002", "1840000000000000001"]
    first = result.posts[0]
    assert first.published_at == datetime(2026, 9, 29, 10, 0, tzinfo=UTC)
    assert first.url == "https://x.com/i/web/status/1840000000000000002"
    assert first.metrics == Metrics(impressions=900, likes=30, comments=1, shares=2, saves=0)
    assert result.measured
    # Two pages, then the window was used up: no third call, the rest waits for the next run.
    assert len(seen) == 2
    assert seen[0].url.params["start_time"] == "2026-08-31T03:00:00Z"
    assert seen[0].url.params["exclude"] == "retweets"
    assert seen[1].url.params["pagination_token"] == "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"
    (limit,) = result.errors
    assert limit.kind is PlatformErrorKind.RATE_LIMITED and limit.retry_after == pytest.approx(14 * 60 + 1)
    assert sleeps.calls == []


async def test_x_timeline_without_user_id_or_after_a_refusal(mock_http: Any, sleeps: Any, clock: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401,
            json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
        )

    client = XClient(mock_http(handler), bearer_token="x-token", sleep=sleeps, clock=clock, jitter=_no_jitter)
    missing = await client.discover_posts(AccountRef("x_corp", None), since=SINCE)
    assert (missing.posts, [e.kind for e in missing.errors]) == ([], [PlatformErrorKind.NOT_FOUND])
    refused = await client.discover_posts(X_ACCOUNT, since=SINCE)
    assert (refused.posts, [e.kind for e in refused.errors]) == ([], [PlatformErrorKind.AUTH])


def _media(media_id: str, code: str, timestamp: str, likes: int | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": media_id,
        "caption": f"caption {code}",
        "media_type": "IMAGE",
        "media_product_type": "FEED",
        "permalink": f"https://www.instagram.com/p/{code}/",
        "timestamp": timestamp,
        "comments_count": 2,
    }
    if likes is not None:
        item["like_count"] = likes
    return item


async def test_instagram_media_pages_until_older_than_the_window(
    mock_http: Any, sleeps: Any, clock: Any
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.url.path == "/v22.0/17841405309211844/media"
        assert request.headers["authorization"] == "Bearer ig-token"
        if "after" not in request.url.params:
            body = {
                "data": [
                    _media("18182686576415017", "Ddr9jGEmLMp", "2026-09-24T13:30:00+0000", 4),
                    _media(
                        "18182686576415016", "Ddq1aaaaaaa", "2026-09-10T08:00:00+0000", None
                    ),  # likes hidden
                ],
                "paging": {
                    "cursors": {"before": "QVFIUmBefore", "after": "QVFIUkAfter1"},
                    "next": "https://graph.facebook.com/v22.0/17841405309211844/media?limit=50&after=QVFIUkAfter1",
                },
            }
        else:
            body = {
                "data": [
                    _media("18182686576415015", "Ddp0bbbbbbb", "2026-09-01T08:00:00+0000", 9),
                    _media(
                        "18182686576415014", "Ddo9ccccccc", "2026-08-01T08:00:00+0000", 1
                    ),  # before the window
                ],
                "paging": {
                    "cursors": {"before": "QVFIUmB2", "after": "QVFIUkAfter2"},
                    "next": "https://graph.facebook.com/v22.0/17841405309211844/media?limit=50&after=QVFIUkAfter2",
                },
            }
        return httpx.Response(200, json=body)

    client = InstagramClient(
        mock_http(handler), access_token="ig-token", sleep=sleeps, clock=clock, jitter=_no_jitter
    )
    result = await client.discover_posts(IG_ACCOUNT, since=SINCE)

    assert [p.external_id for p in result.posts] == [
        "18182686576415017",
        "18182686576415016",
        "18182686576415015",
    ]
    assert result.posts[0].url == "https://www.instagram.com/p/Ddr9jGEmLMp/"
    assert result.posts[0].published_at == datetime(2026, 9, 24, 13, 30, tzinfo=UTC)
    assert result.posts[0].metrics == Metrics(likes=4, comments=2)
    assert result.posts[1].metrics == Metrics(comments=2)  # hidden likes stay unknown
    assert (result.errors, result.measured) == ([], False)
    assert (
        len(seen) == 2 and seen[1].url.params["after"] == "QVFIUkAfter1"
    )  # the page older than the window ends it


async def test_instagram_listing_stops_near_the_rate_limit(mock_http: Any, sleeps: Any, clock: Any) -> None:
    usage = {
        "17841405309211844": [
            {
                "type": "instagram",
                "call_count": 95,
                "total_cputime": 12,
                "total_time": 20,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        body = {
            "data": [_media("18182686576415017", "Ddr9jGEmLMp", "2026-09-24T13:30:00+0000", 4)],
            "paging": {
                "cursors": {"after": "QVFIUkAfter1"},
                "next": "https://graph.facebook.com/v22.0/x/media?after=QVFIUkAfter1",
            },
        }
        return httpx.Response(200, json=body, headers={"x-business-use-case-usage": json.dumps(usage)})

    client = InstagramClient(
        mock_http(handler), access_token="ig-token", sleep=sleeps, clock=clock, jitter=_no_jitter
    )
    result = await client.discover_posts(IG_ACCOUNT, since=SINCE)
    assert len(calls) == 1 and [p.external_id for p in result.posts] == ["18182686576415017"]
    (limit,) = result.errors
    assert (limit.kind, limit.retry_after) == (PlatformErrorKind.RATE_LIMITED, 7 * 60)


def _upload(video_id: str, published: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"videoId": video_id}
    if published is not None:
        details["videoPublishedAt"] = published
    return {
        "kind": "youtube#playlistItem",
        "etag": "e",
        "id": f"UExp{video_id}",
        "snippet": {
            "publishedAt": "2026-09-20T10:00:00Z",
            "title": f"video {video_id}",
            "resourceId": {"kind": "youtube#video", "videoId": video_id},
        },
        "contentDetails": details,
    }


async def test_youtube_uploads_playlist(mock_http: Any, sleeps: Any, clock: Any) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.headers["x-goog-api-key"] == "yt-key"
        if request.url.path.endswith("/channels"):
            assert request.url.params["part"] == "contentDetails"
            return httpx.Response(
                200,
                json={
                    "kind": "youtube#channelListResponse",
                    "items": [
                        {
                            "kind": "youtube#channel",
                            "id": "UC_x5XG1OV2P6uZZ5FSM9Ttw",
                            "contentDetails": {
                                "relatedPlaylists": {"likes": "", "uploads": "UU_x5XG1OV2P6uZZ5FSM9Ttw"}
                            },
                        }
                    ],
                },
            )
        assert request.url.path.endswith("/playlistItems")
        assert request.url.params["playlistId"] == "UU_x5XG1OV2P6uZZ5FSM9Ttw"
        if "pageToken" not in request.url.params:
            return httpx.Response(
                200,
                json={
                    "kind": "youtube#playlistItemListResponse",
                    "nextPageToken": "EAAaBlBUOkNESQ",
                    "items": [_upload("dQw4w9WgXcQ", "2026-09-28T09:00:00Z"), _upload("privAAAAAAA", None)],
                    "pageInfo": {"totalResults": 3, "resultsPerPage": 2},
                },
            )
        return httpx.Response(
            200,
            json={
                "kind": "youtube#playlistItemListResponse",
                "items": [_upload("oldBBBBBBBB", "2026-06-01T09:00:00Z")],
                "pageInfo": {"totalResults": 3, "resultsPerPage": 2},
            },
        )

    client = YouTubeClient(mock_http(handler), api_key="yt-key", sleep=sleeps, clock=clock, jitter=_no_jitter)
    result = await client.discover_posts(YT_ACCOUNT, since=SINCE)
    assert [(p.external_id, p.url, p.text) for p in result.posts] == [
        ("dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video dQw4w9WgXcQ")
    ]
    assert result.errors == []
    assert [r.url.path.rsplit("/", 1)[-1] for r in seen] == ["channels", "playlistItems", "playlistItems"]


async def test_youtube_quota_ends_the_listing(
    mock_http: Any, sleeps: Any, clock: Any, load_json: Any
) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(403, json=load_json("yt_quota_exceeded.json"))

    client = YouTubeClient(mock_http(handler), api_key="yt-key", sleep=sleeps, clock=clock, jitter=_no_jitter)
    result = await client.discover_posts(YT_ACCOUNT, since=SINCE)
    assert len(calls) == 1 and result.posts == []
    (quota,) = result.errors
    assert quota.kind is PlatformErrorKind.QUOTA and quota.retry_after is not None
