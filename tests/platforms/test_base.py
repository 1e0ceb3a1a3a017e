"""The shared collector machinery: retry loop, token hygiene, helpers, catalog messages, build_clients."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from bot.i18n import catalog, placeholders, translator
from bot.platforms import build_clients
from bot.platforms.base import (
    ApiCaller,
    as_count,
    classify_status,
    collect_batches,
    equal_jitter,
    map_bounded,
    redact_url,
    retry_after_header,
)
from bot.platforms.instagram import InstagramClient
from bot.platforms.x import XClient
from bot.platforms.youtube import YouTubeClient
from bot.runtime.platforms import CollectResult, PlatformClient, PlatformError, PlatformErrorKind, PostRef

TOKEN = "EAAGm0PX4ZCpsBAsecretZDZD"


def test_redact_url_masks_credentials_only():
    url = "https://graph.facebook.com/v22.0/1/media?access_token=EAAG123&limit=25&after=QVFI&key=AIza9"

    assert (
        redact_url(url)
        == "https://graph.facebook.com/v22.0/1/media?access_token=***&limit=25&after=QVFI&key=***"
    )
    assert redact_url("https://api.x.com/2/tweets?ids=1,2") == "https://api.x.com/2/tweets?ids=1,2"
    assert redact_url("https://api.x.com/2/users/1") == "https://api.x.com/2/users/1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5),
        (0, 0),
        ("5000", 5000),
        (12.0, 12),
        (True, None),
        (-1, None),
        ("12.5", None),
        ("", None),
        (None, None),
        ({"value": 1}, None),
        (12.5, None),
        ("１２", None),
    ],
)
def test_as_count(value, expected):
    assert as_count(value) == expected


def test_retry_after_header_reads_seconds_and_dates():
    now = datetime(2026, 9, 30, 3, 0, tzinfo=UTC)

    assert retry_after_header(httpx.Headers({"Retry-After": "120"}), now=now) == 120.0
    assert (
        retry_after_header(httpx.Headers({"Retry-After": "Wed, 30 Sep 2026 03:00:45 GMT"}), now=now) == 45.0
    )
    assert retry_after_header(httpx.Headers({"Retry-After": "soon"}), now=now) is None
    assert retry_after_header(httpx.Headers(), now=now) is None


def test_equal_jitter_stays_between_half_and_full_delay():
    delays = [equal_jitter(8.0) for _ in range(200)]

    assert all(4.0 <= d <= 8.0 for d in delays)
    assert len(set(delays)) > 1


def test_classify_status_reads_plain_http_statuses():
    now = datetime(2026, 9, 30, 3, 0, tzinfo=UTC)

    def kind(status: int) -> PlatformErrorKind | None:
        failure = classify_status(httpx.Response(status), now=now)
        return None if failure is None else failure.kind

    assert [kind(s) for s in (200, 204, 400, 401, 403, 404, 429, 500, 503)] == [
        None,
        None,
        PlatformErrorKind.BAD_RESPONSE,
        PlatformErrorKind.AUTH,
        PlatformErrorKind.AUTH,
        PlatformErrorKind.NOT_FOUND,
        PlatformErrorKind.RATE_LIMITED,
        PlatformErrorKind.SERVER,
        PlatformErrorKind.SERVER,
    ]


async def test_a_platform_requested_wait_beyond_the_cap_gives_up_with_retry_after(mock_http, sleeps, clock):
    http = mock_http(lambda request: httpx.Response(429, headers={"Retry-After": "120"}))
    caller = ApiCaller(
        http,
        platform="youtube",
        base_url="https://example.test/api",
        headers={},
        secrets=[],
        classify=lambda response, body, now: classify_status(response, now=now),
        sleep=sleeps,
        clock=clock,
    )

    with pytest.raises(PlatformError) as caught:
        await caller.get_json("videos", {"id": "a"})

    assert caught.value.kind is PlatformErrorKind.RATE_LIMITED
    assert caught.value.retry_after == 120.0
    assert caught.value.detail == "GET https://example.test/api/videos?id=a -> HTTP 429"
    assert sleeps.calls == []


async def test_a_token_echoed_by_the_platform_is_scrubbed(mock_http, sleeps):
    body = {
        "error": {
            "message": f"Invalid OAuth access token - Cannot parse access token: {TOKEN}",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": "Ab1",
        }
    }
    client = InstagramClient(
        mock_http(lambda request: httpx.Response(400, json=body)), access_token=TOKEN, sleep=sleeps
    )

    result = await client.fetch_post_metrics([PostRef(external_id="17900000000000001", account_key="ig")])

    [error] = result.errors
    assert error.kind is PlatformErrorKind.AUTH
    assert "Cannot parse access token: ***" in error.detail
    for text in (str(error), repr(error), error.render(translator("en")), error.render(translator("ja"))):
        assert TOKEN not in text


def test_error_renders_from_the_catalog_in_both_locales():
    error = PlatformError(
        PlatformErrorKind.QUOTA, platform="youtube", detail="HTTP 403", retry_after=4 * 3600.0
    )

    assert error.render(translator("en")) == (
        "The YouTube API quota is used up, so metrics collection is paused until the quota resets. (HTTP 403) "
        "It can be retried in about 240 min."
    )
    assert error.render(translator("ja")) == (
        "YouTube のAPI割り当て量（クォータ）の上限に達したため、リセットされるまで指標の取得を停止します。（HTTP 403）"
        " 約240分後に再試行できます。"
    )
    assert str(error) == "youtube quota: HTTP 403"


def test_every_error_kind_has_a_message_in_both_locales():
    for kind in PlatformErrorKind:
        key = f"platforms.errors.{kind}"
        assert placeholders(catalog("en")[key]) == placeholders(catalog("ja")[key]) == {"platform", "detail"}
    for name in ("x", "instagram", "youtube"):
        assert catalog("ja")[f"platforms.names.{name}"] == catalog("en")[f"platforms.names.{name}"]
    en_keys = {k for k in catalog("en") if k.startswith("platforms.")}
    ja_keys = {k for k in catalog("ja") if k.startswith("platforms.")}
    assert en_keys == ja_keys


def test_stops_collection_only_for_errors_that_would_repeat():
    stopping = {k for k in PlatformErrorKind if PlatformError(k, platform="x").stops_collection}

    assert stopping == {
        PlatformErrorKind.RATE_LIMITED,
        PlatformErrorKind.AUTH,
        PlatformErrorKind.QUOTA,
        PlatformErrorKind.SERVER,
        PlatformErrorKind.NETWORK,
    }


async def test_collect_batches_goes_on_after_a_bad_response_and_stops_after_auth():
    seen: list[list[str]] = []
    outcomes = iter([PlatformErrorKind.BAD_RESPONSE, None, PlatformErrorKind.AUTH, None])

    async def fetch(batch):
        seen.append(list(batch))
        kind = next(outcomes)
        if kind is not None:
            raise PlatformError(kind, platform="x")
        return CollectResult(missing=list(batch))

    result = await collect_batches(list("abcdefg"), size=2, fetch=fetch)

    assert seen == [["a", "b"], ["c", "d"], ["e", "f"]]
    assert result.missing == ["c", "d"]
    assert [e.kind for e in result.errors] == [PlatformErrorKind.BAD_RESPONSE, PlatformErrorKind.AUTH]


async def test_map_bounded_keeps_input_order_and_limit():
    running = 0
    peak = 0

    async def work(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001 * (5 - n % 5))
        running -= 1
        return n * 10

    assert await map_bounded(list(range(12)), work, limit=4) == [n * 10 for n in range(12)]
    assert peak == 4
    with pytest.raises(ValueError):
        await map_bounded([1], work, limit=0)


def test_build_clients_makes_one_client_per_present_token(mock_http):
    http = mock_http(lambda request: httpx.Response(200))

    clients = build_clients(http, tokens={"x": "xt", "instagram": None, "youtube": "  ", "tiktok": "tt"})
    assert list(clients) == ["x"]
    assert isinstance(clients["x"], XClient)

    every = build_clients(http, tokens={"x": "xt", "instagram": "it", "youtube": "yk"})
    assert {name: type(client) for name, client in every.items()} == {
        "x": XClient,
        "instagram": InstagramClient,
        "youtube": YouTubeClient,
    }
    for name, client in every.items():
        assert isinstance(client, PlatformClient)
        assert client.platform == name
