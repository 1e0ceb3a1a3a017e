"""X API v2 collector: public metrics of posts, the account's recent posts (user timeline), follower
counts and the user id of a handle (I/O via httpx; parsing is pure).

An app-only bearer token can read ``public_metrics`` only; ``non_public_metrics`` and
``organic_metrics`` need the post author's user-context token and work only for posts of the
last 30 days, so this collector does not ask for them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.clock import Clock
from bot.metrics import AccountCounts, Metrics
from bot.platforms.base import (
    ApiCaller,
    Failure,
    Jitter,
    ShapeCheck,
    Sleep,
    classify_status,
    collect_batches,
    equal_jitter,
    retry_after_header,
    unique_ids,
)
from bot.runtime.platforms import (
    AccountRef,
    CollectResult,
    DiscoveredPost,
    DiscoverResult,
    PlatformError,
    PlatformErrorKind,
    PostRef,
)

PLATFORM = "x"
BASE_URL = "https://api.x.com/2/"
#: ``GET /2/tweets`` accepts at most 100 ids.
BATCH_SIZE = 100
#: Margin added to ``x-rate-limit-reset``, for clock skew between us and X.
RESET_MARGIN = 1.0

#: ``GET /2/users/:id/tweets`` pages hold at most 100 posts; a run reads at most this many pages
#: (X serves the newest 3,200 anyway, and a daily run over ``lookback_days`` rarely needs two).
TIMELINE_PAGE = 100
TIMELINE_MAX_PAGES = 10

#: An X handle as X allows it (what ``GET /2/users/by/username/:username`` accepts).
_HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}")

_TWEET_PARAMS = {
    "tweet.fields": "public_metrics",
    # Video views live on the attached media, not on the post.
    "expansions": "attachments.media_keys",
    "media.fields": "public_metrics",
}


def classify(response: httpx.Response, body: Mapping[str, Any] | None, now: datetime) -> Failure | None:
    """Reads X's RFC 7807-style problem bodies (and the v1.1-style 429 body the docs still show)."""
    if 200 <= response.status_code < 300:
        return None  # a 200 may still carry partial ``errors``; the parser handles those
    title, detail, problem_type = "", "", ""
    if body is not None:
        title = str(body.get("title", ""))
        detail = str(body.get("detail", ""))
        problem_type = str(body.get("type", ""))
        legacy = body.get("errors")
        if not title and isinstance(legacy, list) and legacy and isinstance(legacy[0], Mapping):
            detail = str(legacy[0].get("message", ""))
    message = title if not detail or detail == title else (f"{title}: {detail}" if title else detail)
    code = problem_type.rsplit("/", 1)[-1] if "/problems/" in problem_type else None
    if problem_type.endswith("/usage-capped") or title == "UsageCapExceeded":
        # The monthly plan cap: waiting minutes does not help.
        return Failure(PlatformErrorKind.QUOTA, message, code="usage-capped")
    if response.status_code == 429:
        wait = _reset_wait(response.headers, now=now)
        if wait is None:
            wait = retry_after_header(response.headers, now=now)
        return Failure(PlatformErrorKind.RATE_LIMITED, message, transient=True, retry_after=wait, code=code)
    failure = classify_status(response, message=message, now=now)
    return None if failure is None else replace(failure, code=code)


def _reset_wait(headers: httpx.Headers, *, now: datetime) -> float | None:
    raw = headers.get("x-rate-limit-reset", "").strip()
    if not raw.isdigit():
        return None
    return max(0.0, int(raw) - now.timestamp()) + RESET_MARGIN


def parse_tweets(
    body: Mapping[str, Any], requested: Sequence[str], checks: ShapeCheck
) -> tuple[dict[str, Metrics], list[str]]:
    """Metrics per returned post, and the requested ids X did not return (deleted, protected)."""
    views = _media_views(body, checks)
    wanted = set(requested)
    metrics: dict[str, Metrics] = {}
    for index, item in enumerate(checks.items(body, "data", where="tweets")):
        where = f"data[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            checks.note(f"{where}: no id")
            continue
        post_id: str = item["id"]
        if post_id not in wanted:
            continue
        where = f"tweet {post_id}"
        counts = checks.mapping(item, "public_metrics", where=where)
        if counts is None:
            continue
        where += ".public_metrics"
        retweets = checks.count(counts, "retweet_count", where=where)
        quotes = checks.count(counts, "quote_count", where=where)
        metrics[post_id] = Metrics(
            impressions=checks.count(counts, "impression_count", where=where),
            likes=checks.count(counts, "like_count", where=where),
            comments=checks.count(counts, "reply_count", where=where),
            # Reposts and quotes both spread the post further; X's Content export calls this "Shares".
            shares=None if retweets is None else retweets + (quotes or 0),
            saves=checks.count(counts, "bookmark_count", where=where),
            video_views=_post_views(item, views),
        )
    # Ids that X reports in ``errors`` (resource-not-found, not-authorized-for-resource) and any
    # id silently left out are the same thing to us: nothing to store for that post.
    missing = [post_id for post_id in requested if post_id not in metrics]
    return metrics, missing


def _media_views(body: Mapping[str, Any], checks: ShapeCheck) -> dict[str, int]:
    includes = body.get("includes")
    if not isinstance(includes, Mapping):
        return {}
    views: dict[str, int] = {}
    for media in checks.items(includes, "media", where="includes"):
        if not isinstance(media, Mapping) or not isinstance(media.get("media_key"), str):
            continue
        counts = media.get("public_metrics")
        if isinstance(counts, Mapping) and "view_count" in counts:  # only videos have views
            count = checks.count(counts, "view_count", where=f"media {media['media_key']}")
            if count is not None:
                views[media["media_key"]] = count
    return views


def _post_views(item: Mapping[str, Any], views: Mapping[str, int]) -> int | None:
    attachments = item.get("attachments")
    keys = attachments.get("media_keys") if isinstance(attachments, Mapping) else None
    if not isinstance(keys, list):
        return None
    counted = [views[key] for key in keys if isinstance(key, str) and key in views]
    return sum(counted) if counted else None


def parse_timeline(body: Mapping[str, Any], checks: ShapeCheck) -> list[DiscoveredPost]:
    """The posts of one ``GET /2/users/:id/tweets`` page, with their public metrics."""
    items = [item for item in checks.items(body, "data", where="timeline") if isinstance(item, Mapping)]
    ids = [str(item["id"]) for item in items if isinstance(item.get("id"), str)]
    metrics, _missing = parse_tweets(body, ids, checks)
    posts: list[DiscoveredPost] = []
    for item in items:
        post_id, created = item.get("id"), item.get("created_at")
        if not isinstance(post_id, str) or not post_id.isdigit():
            continue
        try:
            published = datetime.fromisoformat(str(created)).astimezone(UTC)
        except ValueError:
            checks.note(f"tweet {post_id}.created_at: {created!r}")
            continue
        posts.append(
            DiscoveredPost(
                external_id=post_id,
                published_at=published,
                url=f"https://x.com/i/web/status/{post_id}",
                text=str(item.get("text", "")),
                metrics=metrics.get(post_id, Metrics()),
            )
        )
    return posts


def _next_token(body: Mapping[str, Any]) -> str | None:
    meta = body.get("meta")
    token = meta.get("next_token") if isinstance(meta, Mapping) else None
    return token if isinstance(token, str) and token else None


class XClient:
    """Collects public metrics of posts and follower counts with an app-only bearer token."""

    platform = PLATFORM

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        bearer_token: str,
        base_url: str = BASE_URL,
        sleep: Sleep = asyncio.sleep,
        max_retries: int = 3,
        clock: Clock | None = None,
        jitter: Jitter = equal_jitter,
    ) -> None:
        self._api = ApiCaller(
            http,
            platform=PLATFORM,
            base_url=base_url,
            headers={"Authorization": f"Bearer {bearer_token}"},
            secrets=[bearer_token],
            classify=classify,
            sleep=sleep,
            clock=clock,
            max_retries=max_retries,
            jitter=jitter,
        )

    def __repr__(self) -> str:
        return f"XClient(base_url={str(self._api.base_url)!r})"

    async def fetch_post_metrics(self, posts: Sequence[PostRef]) -> CollectResult:
        ids = unique_ids(posts)
        # X answers a malformed id with a 400 for the whole batch, so such ids never go out.
        valid = [post_id for post_id in ids if post_id.isascii() and post_id.isdigit()]
        result = await collect_batches(valid, size=BATCH_SIZE, fetch=self._fetch_batch)
        result.missing.extend(post_id for post_id in ids if post_id not in valid)
        return result

    async def _fetch_batch(self, ids: Sequence[str]) -> CollectResult:
        body = await self._api.get_json("tweets", {"ids": ",".join(ids), **_TWEET_PARAMS})
        checks = ShapeCheck()
        metrics, missing = parse_tweets(body, ids, checks)
        error = self._api.bad_response(checks, where="GET tweets")
        return CollectResult(metrics=metrics, missing=missing, errors=[error] if error else [])

    async def discover_posts(self, account: AccountRef, *, since: datetime) -> DiscoverResult:
        """The account's posts since ``since`` from its user timeline (retweets left out), page by
        page until the timeline reaches ``since``, X says the rate limit window is used up
        (``x-rate-limit-remaining: 0``; the rest waits for the next run), or the page cap."""
        result = DiscoverResult(measured=True)  # the timeline carries the same public metrics
        user_id = account.platform_user_id
        if not user_id or not user_id.isascii() or not user_id.isdigit():
            result.errors.append(
                self._api.error(
                    PlatformErrorKind.NOT_FOUND, f"account {account.key}: no X user id configured"
                )
            )
            return result
        params = {
            "max_results": str(TIMELINE_PAGE),
            "exclude": "retweets",
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tweet.fields": "created_at,public_metrics",
            "expansions": "attachments.media_keys",
            "media.fields": "public_metrics",
        }
        path = f"users/{user_id}/tweets"
        for _page in range(TIMELINE_MAX_PAGES):
            try:
                body, headers = await self._api.get_page(path, params)
            except PlatformError as err:
                result.errors.append(err)
                break
            checks = ShapeCheck()
            result.posts.extend(post for post in parse_timeline(body, checks) if post.published_at >= since)
            if (error := self._api.bad_response(checks, where=f"GET {path}")) is not None:
                result.errors.append(error)
            token = _next_token(body)
            if token is None:
                break
            if headers.get("x-rate-limit-remaining", "").strip() == "0":
                wait = _reset_wait(headers, now=self._api.now())
                result.errors.append(
                    self._api.error(
                        PlatformErrorKind.RATE_LIMITED,
                        f"GET {path}: rate limit window used up",
                        retry_after=wait,
                    )
                )
                break
            params = {**params, "pagination_token": token}
        return result

    async def lookup_user_id(self, handle: str) -> str:
        """The user id of ``@handle`` from ``GET /2/users/by/username/:username``
        (``{"data": {"id": "…", "name": "…", "username": "…"}}``).

        Raises:
            PlatformError: NOT_FOUND for a handle X does not know (or cannot be one); BAD_RESPONSE
                when the answer carries no numeric id; the usual kinds for HTTP failures.
        """
        name = handle.strip().lstrip("@")
        if not _HANDLE.fullmatch(name):
            raise self._api.error(PlatformErrorKind.NOT_FOUND, f"{handle!r} is not an X handle")
        where = f"GET users/by/username/{name}"
        body = await self._api.get_json(f"users/by/username/{name}", {})
        data = body.get("data")
        if not isinstance(data, Mapping):
            kind = PlatformErrorKind.NOT_FOUND if "errors" in body else PlatformErrorKind.BAD_RESPONSE
            raise self._api.error(kind, f"{where}: no user in the response")
        user_id = data.get("id")
        if not isinstance(user_id, str) or not user_id.isascii() or not user_id.isdigit():
            raise self._api.error(PlatformErrorKind.BAD_RESPONSE, f"{where}: no numeric user id")
        return user_id

    async def fetch_account(self, account: AccountRef) -> AccountCounts:
        """Follower count from ``GET /2/users/:id``.

        Raises:
            PlatformError: NOT_FOUND when no user id is configured or X does not know it;
                BAD_RESPONSE when the answer has no readable follower count.
        """
        if not account.platform_user_id:
            raise self._api.error(
                PlatformErrorKind.NOT_FOUND, f"account {account.key}: no X user id configured"
            )
        user_id = account.platform_user_id
        body = await self._api.get_json(f"users/{user_id}", {"user.fields": "public_metrics"})
        data = body.get("data")
        if not isinstance(data, Mapping):
            kind = PlatformErrorKind.NOT_FOUND if "errors" in body else PlatformErrorKind.BAD_RESPONSE
            raise self._api.error(kind, f"GET users/{user_id}: no user in the response")
        checks = ShapeCheck()
        counts = checks.mapping(data, "public_metrics", where=f"user {user_id}")
        followers = (
            None if counts is None else checks.count(counts, "followers_count", where="public_metrics")
        )
        error = self._api.bad_response(checks, where=f"GET users/{user_id}")
        if error is not None:
            raise error
        return AccountCounts(account_key=account.key, followers=followers)
