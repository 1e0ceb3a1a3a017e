"""YouTube Data API v3 collector: video statistics, the channel's recent uploads, subscriber counts and
the channel id of a handle (I/O via httpx; parsing is pure).

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
from bot.runtime.platforms import (
    AccountRef,
    CollectResult,
    DiscoveredPost,
    DiscoverResult,
    PlatformError,
    PlatformErrorKind,
    PostRef,
)

PLATFORM = "youtube"
BASE_URL = "https://www.googleapis.com/youtube/v3/"
#: ``videos.list`` takes at most 50 ids per call (1 quota unit per call).
BATCH_SIZE = 50
#: The daily quota resets at midnight Pacific Time.
QUOTA_TZ = ZoneInfo("America/Los_Angeles")

#: ``playlistItems.list``: items per page (its maximum) and pages per run; each page costs 1 unit of
#: the 10,000-unit daily quota, as does the ``channels.list`` that finds the uploads playlist.
UPLOADS_PAGE = 50
UPLOADS_MAX_PAGES = 4

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
#: A YouTube handle without its ``@``: 3–30 letters, digits, ``_``, ``-`` and ``.`` (any script).
_HANDLE = re.compile(r"[\w.-]{3,30}")


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


def uploads_playlist(body: Mapping[str, Any], checks: ShapeCheck) -> str | None:
    """``contentDetails.relatedPlaylists.uploads`` of the one channel in a ``channels.list`` body."""
    items = checks.items(body, "items", where="channels")
    channel = items[0] if items and isinstance(items[0], Mapping) else None
    if channel is None:
        return None
    details = checks.mapping(channel, "contentDetails", where="channel")
    related = checks.mapping(details, "relatedPlaylists", where="contentDetails") if details else None
    uploads = related.get("uploads") if related else None
    if not isinstance(uploads, str) or not _ID.fullmatch(uploads):
        checks.note("contentDetails.relatedPlaylists.uploads: missing")
        return None
    return uploads


def parse_uploads(body: Mapping[str, Any], checks: ShapeCheck) -> list[DiscoveredPost]:
    """The videos of one ``playlistItems.list`` page; private and deleted videos (no
    ``videoPublishedAt``) are left out."""
    posts: list[DiscoveredPost] = []
    for index, item in enumerate(checks.items(body, "items", where="playlistItems")):
        details = item.get("contentDetails") if isinstance(item, Mapping) else None
        if not isinstance(details, Mapping) or not isinstance(details.get("videoId"), str):
            checks.note(f"items[{index}]: no contentDetails.videoId")
            continue
        video_id = str(details["videoId"])
        published = details.get("videoPublishedAt")
        if published is None:
            continue  # a private or deleted video in the playlist
        try:
            at = datetime.fromisoformat(str(published)).astimezone(UTC)
        except ValueError:
            checks.note(f"video {video_id}.videoPublishedAt: {published!r}")
            continue
        snippet = item.get("snippet")
        title = snippet.get("title") if isinstance(snippet, Mapping) else None
        posts.append(
            DiscoveredPost(
                external_id=video_id,
                published_at=at,
                url=f"https://www.youtube.com/watch?v={video_id}",
                text=title if isinstance(title, str) else "",
            )
        )
    return posts


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

    async def discover_posts(self, account: AccountRef, *, since: datetime) -> DiscoverResult:
        """The channel's uploads since ``since``: ``channels.list`` (``contentDetails``) names the
        uploads playlist, ``playlistItems.list`` pages through it, newest first, until it reaches
        ``since`` or the page cap (at most ``1 + UPLOADS_MAX_PAGES`` quota units a run). A quota
        error ends the listing; nothing more is asked until the daily reset."""
        result = DiscoverResult()
        channel_id = account.platform_user_id
        if not channel_id or not _ID.fullmatch(channel_id):
            result.errors.append(
                self._api.error(
                    PlatformErrorKind.NOT_FOUND,
                    f"account {account.key}: no valid YouTube channel id configured",
                )
            )
            return result
        try:
            body = await self._api.get_json("channels", {"part": "contentDetails", "id": channel_id})
            checks = ShapeCheck()
            playlist = uploads_playlist(body, checks)
            if playlist is None:
                raise self._api.bad_response(checks, where="GET channels") or self._api.error(
                    PlatformErrorKind.NOT_FOUND, f"GET channels: no channel {channel_id}"
                )
            params = {
                "part": "snippet,contentDetails",
                "playlistId": playlist,
                "maxResults": str(UPLOADS_PAGE),
            }
            for _page in range(UPLOADS_MAX_PAGES):
                page_body = await self._api.get_json("playlistItems", params)
                checks = ShapeCheck()
                page = parse_uploads(page_body, checks)
                result.posts.extend(post for post in page if post.published_at >= since)
                if (error := self._api.bad_response(checks, where="GET playlistItems")) is not None:
                    result.errors.append(error)
                token = page_body.get("nextPageToken")
                if not isinstance(token, str) or not page or min(p.published_at for p in page) < since:
                    break
                params = {**params, "pageToken": token}
        except PlatformError as err:
            result.errors.append(err)
        return result

    async def lookup_user_id(self, handle: str) -> str:
        """The channel id of ``@handle`` from ``channels.list?forHandle=`` (1 quota unit).

        Raises:
            PlatformError: NOT_FOUND for a handle YouTube does not know (or cannot be one);
                BAD_RESPONSE when the answer carries no channel id; the usual kinds for HTTP failures.
        """
        name = handle.strip()
        if not _HANDLE.fullmatch(name.lstrip("@")):
            raise self._api.error(PlatformErrorKind.NOT_FOUND, f"{handle!r} is not a YouTube handle")
        body = await self._api.get_json("channels", {"part": "id", "forHandle": "@" + name.lstrip("@")})
        items = body.get("items")
        channel = items[0] if isinstance(items, list) and items else None
        if not isinstance(channel, Mapping):
            raise self._api.error(PlatformErrorKind.NOT_FOUND, f"GET channels: no channel for {name}")
        channel_id = channel.get("id")
        if not isinstance(channel_id, str) or not _ID.fullmatch(channel_id):
            raise self._api.error(PlatformErrorKind.BAD_RESPONSE, f"GET channels: no channel id for {name}")
        return channel_id

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
