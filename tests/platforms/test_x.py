"""XClient against httpx.MockTransport answering in X API v2's documented shapes."""

from __future__ import annotations

import httpx
import pytest

from bot.metrics import AccountCounts, Metrics
from bot.platforms.x import XClient
from bot.runtime.platforms import AccountRef, PlatformError, PlatformErrorKind, PostRef

TOKEN = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4X"
KNOWN = "1460323737035677698"
VIDEO = "1463534116817846278"
DELETED = "1455953449422516226"


def no_jitter(delay: float) -> float:
    return delay


@pytest.fixture
def make_client(mock_http, sleeps, clock):
    def make(handler, **kwargs) -> XClient:
        return XClient(
            mock_http(handler), bearer_token=TOKEN, sleep=sleeps, clock=clock, jitter=no_jitter, **kwargs
        )

    return make


def posts(*ids: str) -> list[PostRef]:
    return [PostRef(external_id=i, account_key="x_corp") for i in ids]


def tweet(post_id: str, likes: int = 1) -> dict:
    return {
        "id": post_id,
        "text": "hello",
        "edit_history_tweet_ids": [post_id],
        "public_metrics": {
            "retweet_count": 2,
            "reply_count": 3,
            "like_count": likes,
            "quote_count": 4,
            "bookmark_count": 5,
            "impression_count": 600,
        },
    }


async def test_batch_lookup_maps_public_metrics_and_reports_deleted_posts(make_client, load_json):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load_json("x_tweets.json"))

    client = make_client(handler)
    result = await client.fetch_post_metrics(posts(KNOWN, VIDEO, DELETED, KNOWN))

    assert len(seen) == 1
    request = seen[0]
    assert request.url.host == "api.x.com"
    assert request.url.path == "/2/tweets"
    assert dict(request.url.params) == {
        "ids": f"{KNOWN},{VIDEO},{DELETED}",
        "tweet.fields": "public_metrics",
        "expansions": "attachments.media_keys",
        "media.fields": "public_metrics",
    }
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert result.metrics == {
        KNOWN: Metrics(impressions=15200, likes=892, comments=23, shares=168, saves=34),
        VIDEO: Metrics(impressions=9535, likes=10, comments=0, shares=7, saves=2, video_views=81),
    }
    assert result.missing == [DELETED]
    assert result.errors == []


async def test_more_than_100_ids_go_in_batches_of_100(make_client):
    ids = [str(1_800_000_000_000_000_000 + n) for n in range(250)]
    batches: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        batch = request.url.params["ids"].split(",")
        batches.append(batch)
        return httpx.Response(200, json={"data": [tweet(i, likes=int(i[-3:])) for i in batch]})

    result = await make_client(handler).fetch_post_metrics(posts(*ids))

    assert [len(b) for b in batches] == [100, 100, 50]
    assert [i for b in batches for i in b] == ids
    assert len(result.metrics) == 250
    assert result.metrics[ids[249]].likes == 249
    assert result.missing == []
    assert result.errors == []


async def test_429_waits_until_the_reset_header_then_retries(make_client, sleeps, clock, load_json):
    calls = 0
    reset = int(clock.now().timestamp()) + 30

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            headers = {
                "x-rate-limit-limit": "3500",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(reset),
            }
            return httpx.Response(429, json=load_json("x_too_many_requests.json"), headers=headers)
        return httpx.Response(200, json={"data": [tweet(KNOWN)]})

    result = await make_client(handler).fetch_post_metrics(posts(KNOWN))

    assert sleeps.calls == [31.0]  # until the reset, plus one second for clock skew
    assert calls == 2
    assert result.metrics[KNOWN].likes == 1
    assert result.errors == []


async def test_429_with_a_distant_reset_gives_up_at_once_and_stops_the_run(
    make_client, sleeps, clock, load_json
):
    requests = 0
    reset = int(clock.now().timestamp()) + 900

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal requests
        requests += 1
        return httpx.Response(
            429, json=load_json("x_too_many_requests.json"), headers={"x-rate-limit-reset": str(reset)}
        )

    ids = [str(1_800_000_000_000_000_000 + n) for n in range(150)]
    result = await make_client(handler).fetch_post_metrics(posts(*ids))

    assert requests == 1  # the second batch is not tried
    assert sleeps.calls == []
    assert result.metrics == {}
    assert result.missing == []
    [error] = result.errors
    assert error.kind is PlatformErrorKind.RATE_LIMITED
    assert error.retry_after == 901.0
    assert "Too Many Requests" in error.detail


async def test_server_error_then_success_backs_off_once(make_client, sleeps):
    answers = iter(
        [httpx.Response(503, text="Service Unavailable"), httpx.Response(200, json={"data": [tweet(KNOWN)]})]
    )

    result = await make_client(lambda request: next(answers)).fetch_post_metrics(posts(KNOWN))

    assert sleeps.calls == [1.0]
    assert list(result.metrics) == [KNOWN]


async def test_server_errors_forever_end_as_one_server_error_after_max_retries(
    make_client, sleeps, load_text
):
    requests = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal requests
        requests += 1
        return httpx.Response(502, text=load_text("gateway_502.html"), headers={"content-type": "text/html"})

    result = await make_client(handler).fetch_post_metrics(posts(KNOWN, VIDEO))

    assert requests == 4  # first try + max_retries=3
    assert sleeps.calls == [1.0, 2.0, 4.0]
    assert result.metrics == {}
    assert result.missing == []
    [error] = result.errors
    assert error.kind is PlatformErrorKind.SERVER
    assert error.platform == "x"
    assert "HTTP 502" in error.detail
    assert "/2/tweets" in error.detail


async def test_network_errors_are_retried(make_client, sleeps):
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise httpx.ConnectTimeout("timed out", request=request)
        return httpx.Response(200, json={"data": [tweet(KNOWN)]})

    result = await make_client(handler).fetch_post_metrics(posts(KNOWN))

    assert sleeps.calls == [1.0, 2.0]
    assert list(result.metrics) == [KNOWN]


async def test_network_errors_forever_are_a_network_error(make_client, sleeps):
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    result = await make_client(handler, max_retries=1).fetch_post_metrics(posts(KNOWN))

    [error] = result.errors
    assert error.kind is PlatformErrorKind.NETWORK
    assert "ConnectError" in error.detail
    assert error.__cause__ is None  # the httpx request (with its auth header) is not kept
    assert sleeps.calls == [1.0]


async def test_bad_token_is_an_auth_error_without_retry(make_client, sleeps, load_json):
    requests = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal requests
        requests += 1
        return httpx.Response(401, json=load_json("x_unauthorized.json"))

    result = await make_client(handler).fetch_post_metrics(posts(KNOWN))

    assert requests == 1
    assert sleeps.calls == []
    [error] = result.errors
    assert error.kind is PlatformErrorKind.AUTH
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)


async def test_monthly_usage_cap_is_quota_not_retried(make_client, sleeps, load_json):
    result = await make_client(
        lambda request: httpx.Response(429, json=load_json("x_usage_capped.json"))
    ).fetch_post_metrics(posts(KNOWN))

    [error] = result.errors
    assert error.kind is PlatformErrorKind.QUOTA
    assert error.code == "usage-capped"
    assert error.retry_after is None
    assert "Monthly product cap" in error.detail
    assert sleeps.calls == []


async def test_html_page_with_status_200_is_a_bad_response(make_client, sleeps, load_text):
    result = await make_client(
        lambda request: httpx.Response(
            200, text=load_text("captive_portal.html"), headers={"content-type": "text/html"}
        )
    ).fetch_post_metrics(posts(KNOWN))

    [error] = result.errors
    assert error.kind is PlatformErrorKind.BAD_RESPONSE
    assert "text/html" in error.detail
    assert sleeps.calls == []
    assert result.metrics == {}


async def test_missing_and_wrongly_typed_fields_never_raise(make_client):
    body = {
        "data": [
            {
                "id": KNOWN,
                "text": "a",
                "public_metrics": {
                    "retweet_count": 1,
                    "reply_count": "many",
                    "like_count": None,
                    "quote_count": 0,
                    "bookmark_count": 2,
                },
            },
            {"id": VIDEO, "text": "b"},
            {"text": "no id"},
            "not an object",
        ]
    }

    result = await make_client(lambda request: httpx.Response(200, json=body)).fetch_post_metrics(
        posts(KNOWN, VIDEO)
    )

    assert result.metrics == {KNOWN: Metrics(impressions=None, likes=None, comments=None, shares=1, saves=2)}
    assert result.missing == [VIDEO]
    [error] = result.errors
    assert error.kind is PlatformErrorKind.BAD_RESPONSE
    assert error.detail == (
        f"GET tweets: tweet {KNOWN}.public_metrics.impression_count: missing; "
        f"tweet {KNOWN}.public_metrics.like_count: null; "
        f"tweet {KNOWN}.public_metrics.reply_count: unexpected str; "
        f"tweet {VIDEO}.public_metrics: missing; "
        "data[2]: no id; data[3]: no id"
    )


async def test_data_of_the_wrong_type_is_a_bad_response(make_client):
    result = await make_client(lambda request: httpx.Response(200, json={"data": "oops"})).fetch_post_metrics(
        posts(KNOWN)
    )

    assert result.missing == [KNOWN]
    assert [e.kind for e in result.errors] == [PlatformErrorKind.BAD_RESPONSE]


async def test_ids_that_are_not_post_ids_are_missing_without_a_request(make_client):
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    result = await make_client(handler).fetch_post_metrics(posts("https://x.com/u/status/1", "abc"))

    assert result.missing == ["https://x.com/u/status/1", "abc"]
    assert result.errors == []


async def test_account_followers(make_client, load_json):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load_json("x_user.json"))

    snapshot = await make_client(handler).fetch_account(
        AccountRef(key="x_corp", platform_user_id="2244994945")
    )

    assert snapshot == AccountCounts(account_key="x_corp", followers=570842)
    assert seen[0].url.path == "/2/users/2244994945"
    assert dict(seen[0].url.params) == {"user.fields": "public_metrics"}
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_unknown_account_is_not_found(make_client, load_json):
    client = make_client(lambda request: httpx.Response(200, json=load_json("x_user_not_found.json")))

    with pytest.raises(PlatformError) as caught:
        await client.fetch_account(AccountRef(key="x_corp", platform_user_id="99999999999"))

    assert caught.value.kind is PlatformErrorKind.NOT_FOUND


async def test_account_without_user_id_is_not_found_without_a_request(make_client):
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    with pytest.raises(PlatformError) as caught:
        await make_client(handler).fetch_account(AccountRef(key="x_corp", platform_user_id=None))

    assert caught.value.kind is PlatformErrorKind.NOT_FOUND
    assert "x_corp" in caught.value.detail


async def test_wrongly_typed_follower_count_is_a_bad_response(make_client):
    body = {"data": {"id": "1", "public_metrics": {"followers_count": "a lot"}}}

    with pytest.raises(PlatformError) as caught:
        await make_client(lambda request: httpx.Response(200, json=body)).fetch_account(
            AccountRef(key="x_corp", platform_user_id="1")
        )

    assert caught.value.kind is PlatformErrorKind.BAD_RESPONSE
    assert "followers_count: unexpected str" in caught.value.detail


def test_client_repr_hides_the_token(mock_http):
    client = XClient(mock_http(lambda request: httpx.Response(200)), bearer_token=TOKEN)

    assert TOKEN not in repr(client)
    assert repr(client) == "XClient(base_url='https://api.x.com/2/')"


async def test_v1_style_429_without_headers_backs_off(make_client, sleeps):
    answers = iter(
        [
            httpx.Response(429, json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]}),
            httpx.Response(200, json={"data": [tweet(KNOWN)]}),
        ]
    )

    result = await make_client(lambda request: next(answers)).fetch_post_metrics(posts(KNOWN))

    assert sleeps.calls == [1.0]
    assert list(result.metrics) == [KNOWN]


async def test_v1_style_429_forever_names_the_message(make_client, sleeps):
    body = {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}

    result = await make_client(
        lambda request: httpx.Response(429, json=body), max_retries=0
    ).fetch_post_metrics(posts(KNOWN))

    [error] = result.errors
    assert (error.kind, error.code, error.retry_after) == (PlatformErrorKind.RATE_LIMITED, None, None)
    assert error.detail.endswith("-> HTTP 429: Rate limit exceeded")
    assert sleeps.calls == []


async def test_a_handle_is_looked_up_as_its_user_id(make_client):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/2/users/by/username/example_corp":
            return httpx.Response(
                200, json={"data": {"id": "2244994945", "name": "Example Corp", "username": "example_corp"}}
            )
        return httpx.Response(404, json={"title": "Not Found"})

    client = make_client(handler)
    assert await client.lookup_user_id("@example_corp") == "2244994945"
    assert [r.url.path for r in seen] == ["/2/users/by/username/example_corp"]
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_an_unknown_or_impossible_handle_is_not_found(make_client):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        # X answers an unknown username with 200 and an errors array.
        return httpx.Response(
            200,
            json={
                "errors": [
                    {
                        "value": "nobody_here_x",
                        "detail": "Could not find user with username: [nobody_here_x].",
                        "title": "Not Found Error",
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                ]
            },
        )

    client = make_client(handler)
    with pytest.raises(PlatformError) as unknown:
        await client.lookup_user_id("nobody_here_x")
    assert unknown.value.kind is PlatformErrorKind.NOT_FOUND
    with pytest.raises(PlatformError) as impossible:
        await client.lookup_user_id("@not a handle/../x")
    assert impossible.value.kind is PlatformErrorKind.NOT_FOUND
    assert len(seen) == 1  # the impossible handle never went out


async def test_an_answer_without_a_numeric_id_is_a_bad_response(make_client):
    client = make_client(lambda _r: httpx.Response(200, json={"data": {"id": "abc", "username": "x"}}))
    with pytest.raises(PlatformError) as bad:
        await client.lookup_user_id("example_corp")
    assert bad.value.kind is PlatformErrorKind.BAD_RESPONSE
