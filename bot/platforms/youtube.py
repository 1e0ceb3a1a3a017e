"""YouTube Data API v3 collector: video statistics and subscriber counts (I/O via httpx; parsing is pure).

The Data API has no impressions (they exist only in Studio exports), so a video's ``viewCount``
becomes ``video_views`` and ``impressions`` stays unknown.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
from bot.runtime.platforms import AccountRef, CollectResult, PlatformErrorKind, PostRef

PLATFORM = "youtube"
BASE_URL = "https://www.googleapis.com/youtube/v3/"
#: ``videos.list`` takes at most 50 ids per call (1 quota unit per call).
BATCH_SIZE = 50
#: The daily quota resets at midnight Pacific Time.
QUOTA_TZ = ZoneInfo("America/Los_Angeles")

_QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_AUTH_REASONS = frozenset(
    {
        "keyInvalid",
        "keyExpired",
        "forbidden",
        "accessNotConfigured",
        "ipRefererBlocked",
        # google.rpc.ErrorInfo reasons in ``error.details`` (newer envelope)
        "API_KEY_INVALID",
        "API_KEY_EXPIRED",
        "API_KEY_SERVICE_BLOCKED",
        "SERVICE_DISABLED",
    }
)
_NOT_FOUND_REASONS = frozenset({"videoNotFound", "channelNotFound", "notFound"})
_ID = re.compile(r"[A-Za-z0-9_-]+")


def seconds_until_quota_reset(now: datetime) -> float:
    """Seconds from ``now`` (aware) to the next midnight in Pacific Time."""
    local = now.astimezone(QUOTA_TZ)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=QUOTA_TZ)
    return (midnight.astimezone(UTC) - now.astimezone(UTC)).total_seconds()


def _reasons(error: Mapping[str, Any]) -> list[str]:
    reasons: list[str] = []
    for key in ("errors", "details"):
        entries = error.get(key)
        if isinstance(entries, list):
            reasons += [str(e["reason"]) for e in entries if isinstance(e, Mapping) and "reason" in e]
    return reasons


def classify(response: httpx.Response, body: Mapping[str, Any] | None, now: datetime) -> Failure | None:
    """Reads Google's error envelope ``{"error": {"code", "message", "errors": [{"reason"}]}}``."""
    error = body.get("error") if body is not None else None
    if not isinstance(error, Mapping):
        return classify_status(response, now=now)
    reasons = _reasons(error)
    message = str(error.get("message", ""))
    code = reasons[0] if reasons else None
    if _QUOTA_REASONS.intersection(reasons):
        # Not transient: nothing changes until the daily reset.
        reset = seconds_until_quota_reset(now)
        return Failure(PlatformErrorKind.QUOTA, message, retry_after=reset, code="quotaExceeded")
    if _RATE_REASONS.intersection(reasons):
        wait = retry_after_header(response.headers, now=now)
        return Failure(PlatformErrorKind.RATE_LIMITED, message, transient=True, retry_after=wait, code=code)
    if _AUTH_REASONS.intersection(reasons):
        return Failure(PlatformErrorKind.AUTH, message, code=code)
    if _NOT_FOUND_REASONS.intersection(reasons):
        return Failure(PlatformErrorKind.NOT_FOUND, message, code=code)
    status_failure = classify_status(response, message=message, now=now)
    if status_failure is None:  # an error envelope on a 2xx: still unusable
        return Failure(PlatformErrorKind.BAD_RESPONSE, message, code=code)
    return Failure(
        status_failure.kind,
        message,
        transient=status_failure.transient,
        retry_after=status_failure.retry_after,
        code=code,
    )


def parse_videos(
    body: Mapping[str, Any], requested: Sequence[str], checks: ShapeCheck
) -> tuple[dict[str, Metrics], list[str]]:
    """Metrics per returned video, and the requested ids YouTube left out (deleted, private)."""
    wanted = set(requested)
    metrics: dict[str, Metrics] = {}
    for index, item in enumerate(checks.items(body, "items", where="videos")):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            checks.note(f"items[{index}]: no id")
            continue
        video_id: str = item["id"]
        if video_id not in wanted:
            continue
        where = f"video {video_id}"
        stats = checks.mapping(item, "statistics", where=where)
        if stats is None:
            continue
        where += ".statistics"
        metrics[video_id] = Metrics(
            video_views=checks.count(stats, "viewCount", where=where),
            # Absent when the owner hides likes or turns comments off: unknown, not zero.
            likes=checks.count(stats, "likeCount", where=where, required=False),
            comments=checks.count(stats, "commentCount", where=where, required=False),
        )
    missing = [video_id for video_id in requested if video_id not in metrics]
    return metrics, missing


class YouTubeClient:
    """Collects public video statistics and channel subscriber counts with an API key."""

    platform = PLATFORM

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str,
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
            # NOTE: Google APIs accept the key as this header as well as ``?key=``; the header keeps
            # it out of URLs and httpx's request log lines.
            headers={"X-Goog-Api-Key": api_key},
            secrets=[api_key],
            classify=classify,
            sleep=sleep,
            clock=clock,
            max_retries=max_retries,
            jitter=jitter,
        )

    def __repr__(self) -> str:
        return f"YouTubeClient(base_url={str(self._api.base_url)!r})"

    async def fetch_post_metrics(self, posts: Sequence[PostRef]) -> CollectResult:
        ids = unique_ids(posts)
        valid = [video_id for video_id in ids if _ID.fullmatch(video_id)]
        result = await collect_batches(valid, size=BATCH_SIZE, fetch=self._fetch_batch)
        result.missing.extend(video_id for video_id in ids if video_id not in valid)
        return result

    async def _fetch_batch(self, ids: Sequence[str]) -> CollectResult:
        body = await self._api.get_json("videos", {"part": "statistics", "id": ",".join(ids)})
        checks = ShapeCheck()
        metrics, missing = parse_videos(body, ids, checks)
        error = self._api.bad_response(checks, where="GET videos")
        return CollectResult(metrics=metrics, missing=missing, errors=[error] if error else [])

    async def fetch_account(self, account: AccountRef) -> AccountCounts:
        """Subscriber count from ``channels.list``; None when the channel hides it.

        Raises:
            PlatformError: NOT_FOUND when no channel id is configured or YouTube does not know it;
                BAD_RESPONSE when the answer has no readable subscriber count.
        """
        channel_id = account.platform_user_id
        if not channel_id or not _ID.fullmatch(channel_id):
            raise self._api.error(
                PlatformErrorKind.NOT_FOUND, f"account {account.key}: no valid YouTube channel id configured"
            )
        body = await self._api.get_json("channels", {"part": "statistics", "id": channel_id})
        checks = ShapeCheck()
        items = checks.items(body, "items", where="channels")
        channel = items[0] if items else None
        if not isinstance(channel, Mapping):
            raise self._api.error(PlatformErrorKind.NOT_FOUND, f"GET channels: no channel {channel_id}")
        stats = checks.mapping(channel, "statistics", where=f"channel {channel_id}")
        followers = None
        if stats is not None and stats.get("hiddenSubscriberCount") is not True:
            followers = checks.count(stats, "subscriberCount", where=f"channel {channel_id}.statistics")
        error = self._api.bad_response(checks, where="GET channels")
        if error is not None:
            raise error
        return AccountCounts(account_key=account.key, followers=followers)
