"""Instagram Graph API collector: per-media insights, the account's recent media and follower counts
(I/O via httpx; parsing is pure).

Insights are one call per media, so calls run with bounded concurrency. Which metrics a media
accepts depends on its product type (a story rejects ``likes``), and asking for one metric a
media does not accept fails the whole call with error 100, so the type is read first.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
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
    equal_jitter,
    map_bounded,
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

PLATFORM = "instagram"
#: v22.0 introduced ``views`` (Jan 2025) and deprecated ``impressions``/``plays`` for all versions.
BASE_URL = "https://graph.facebook.com/v22.0/"

#: Metrics asked for FEED (image, video, carousel) and REELS media.
FEED_METRICS: tuple[str, ...] = (
    "reach",
    "views",
    "likes",
    "comments",
    "saved",
    "shares",
    "total_interactions",
)
#: Stories accept no likes/comments/saved.
STORY_METRICS: tuple[str, ...] = ("reach", "views", "shares", "total_interactions")

#: Insight name -> ``Metrics`` field. ``views`` replaced ``impressions`` in v22.0.
_FIELD_OF: Mapping[str, str] = {
    "reach": "reach",
    "views": "impressions",
    "likes": "likes",
    "comments": "comments",
    "saved": "saves",
    "shares": "shares",
    "total_interactions": "engagements",
}

#: ``GET /{ig-user-id}/media``: media per page and pages per run.
MEDIA_PAGE = 50
MEDIA_MAX_PAGES = 10
_MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,timestamp,like_count,comments_count"
#: Stop listing when a usage header says this share (%) of a Meta rate limit is used.
USAGE_CEILING = 90.0
_USAGE_SHARES = ("call_count", "total_cputime", "total_time")

_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80002})
_AUTH_CODES = frozenset({102, 190}) | frozenset(range(200, 300))  # 2xx codes are permission errors
_SERVER_CODES = frozenset({1, 2})
_ALLOWED_METRICS = re.compile(r"must be one of the following values:\s*([a-z0-9_,\s]+)")
_USAGE_HEADERS = ("x-business-use-case-usage", "x-app-usage")


def classify(response: httpx.Response, body: Mapping[str, Any] | None, now: datetime) -> Failure | None:
    """Reads Graph API error bodies; branches on ``error.code`` because rate limits come as 400s."""
    error = body.get("error") if body is not None else None
    if not isinstance(error, Mapping):
        return classify_status(response, now=now)
    code = _int_or_none(error.get("code"))
    subcode = _int_or_none(error.get("error_subcode"))
    message = str(error.get("message", ""))
    tag = None if code is None else str(code) if subcode is None else f"{code}/{subcode}"
    if code in _AUTH_CODES:
        return Failure(PlatformErrorKind.AUTH, message, code=tag)
    if code in _RATE_LIMIT_CODES:
        wait = _regain_wait(response.headers)
        return Failure(PlatformErrorKind.RATE_LIMITED, message, transient=True, retry_after=wait, code=tag)
    if code == 10:
        # "(#10) Not enough viewers for the media to show insights" concerns one media; any
        # other #10 is a missing permission and concerns them all.
        kind = PlatformErrorKind.NOT_FOUND if "viewers" in message.lower() else PlatformErrorKind.AUTH
        return Failure(kind, message, code=tag)
    if code == 100 and (subcode == 33 or "does not exist" in message):
        return Failure(PlatformErrorKind.NOT_FOUND, message, code=tag)  # deleted or foreign media
    if code in _SERVER_CODES or error.get("is_transient") is True or response.status_code >= 500:
        return Failure(PlatformErrorKind.SERVER, message, transient=True, code=tag)
    status_failure = classify_status(response, message=message, now=now)
    kind = PlatformErrorKind.BAD_RESPONSE if status_failure is None else status_failure.kind
    return Failure(kind, message, code=tag)


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _regain_wait(headers: httpx.Headers) -> float | None:
    """Seconds from the largest ``estimated_time_to_regain_access`` (minutes) in the usage headers."""
    minutes: list[float] = []
    for name in _USAGE_HEADERS:
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            usage: object = json.loads(raw)
        except ValueError:
            continue
        _find_regain(usage, minutes)
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


def _find_regain(node: object, out: list[float]) -> None:
    # The BUC header nests entries under business ids: {"<id>": [{"estimated_time_to_regain_access": 5}]}.
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "estimated_time_to_regain_access" and isinstance(value, int | float):
                out.append(float(value))
            else:
                _find_regain(value, out)
    elif isinstance(node, list):
        for value in node:
            _find_regain(value, out)


def usage_share(headers: httpx.Headers) -> float:
    """The largest share (%) of any Meta rate limit used, from ``X-App-Usage`` /
    ``X-Business-Use-Case-Usage`` (0 when neither says)."""
    shares: list[float] = []

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in _USAGE_SHARES and isinstance(value, int | float) and not isinstance(value, bool):
                    shares.append(float(value))
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for name in _USAGE_HEADERS:
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            walk(json.loads(raw))
        except ValueError:
            continue
    return max(shares, default=0.0)


def parse_media_page(body: Mapping[str, Any], checks: ShapeCheck) -> list[DiscoveredPost]:
    """The media of one ``GET /{ig-user-id}/media`` page (likes and comments as listed)."""
    posts: list[DiscoveredPost] = []
    for index, item in enumerate(checks.items(body, "data", where="media")):
        where = f"media data[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            checks.note(f"{where}: no id")
            continue
        media_id = str(item["id"])
        try:
            published = datetime.strptime(str(item.get("timestamp")), "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
        except ValueError:
            checks.note(f"media {media_id}.timestamp: {item.get('timestamp')!r}")
            continue
        permalink = item.get("permalink")
        posts.append(
            DiscoveredPost(
                external_id=media_id,
                published_at=published,
                url=permalink if isinstance(permalink, str) else "",
                text=str(item.get("caption") or ""),
                # Absent when the owner hides likes: unknown, not zero.
                metrics=Metrics(
                    likes=checks.count(item, "like_count", where=f"media {media_id}", required=False),
                    comments=checks.count(item, "comments_count", where=f"media {media_id}", required=False),
                ),
            )
        )
    return posts


def _after_cursor(body: Mapping[str, Any]) -> str | None:
    paging = body.get("paging")
    if not isinstance(paging, Mapping) or not paging.get("next"):
        return None  # no ``next``: the last page
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, Mapping) else None
    return after if isinstance(after, str) and after else None


def metrics_for(media_product_type: object) -> tuple[str, ...]:
    return STORY_METRICS if media_product_type == "STORY" else FEED_METRICS


def parse_insights(
    body: Mapping[str, Any], *, media_id: str, is_video: bool, checks: ShapeCheck
) -> Metrics | None:
    """Metrics from a ``/{media-id}/insights`` body; None when it holds no usable value."""
    values: dict[str, int | None] = {}
    for index, entry in enumerate(checks.items(body, "data", where=f"media {media_id} insights")):
        where = f"media {media_id} insights.data[{index}]"
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if not isinstance(name, str):
            checks.note(f"{where}: no name")
            continue
        if name in _FIELD_OF:
            values[_FIELD_OF[name]] = _insight_value(entry, where=f"{where}({name})", checks=checks)
    if is_video and "impressions" in values:
        values["video_views"] = values["impressions"]
    metrics = Metrics(**values)
    # NOTE: Meta returns an empty data set, not zeros, when it has no figures for a media.
    return None if metrics.is_empty() else metrics


def _insight_value(entry: Mapping[str, Any], *, where: str, checks: ShapeCheck) -> int | None:
    series = entry.get("values")
    if isinstance(series, list) and series and isinstance(series[0], Mapping):
        return checks.count(series[0], "value", where=where)
    total = entry.get("total_value")  # the newer shape some insights answer with
    if isinstance(total, Mapping):
        return checks.count(total, "value", where=where)
    checks.note(f"{where}: no value")
    return None


def allowed_metrics(error: PlatformError) -> frozenset[str] | None:
    """The metric names an error-100 "metric[0] must be one of …" message lists, if it is one."""
    if error.code is None or error.code.split("/")[0] != "100":
        return None
    match = _ALLOWED_METRICS.search(error.detail)
    if match is None:
        return None
    return frozenset(name.strip() for name in match.group(1).split(",") if name.strip())


class InstagramClient:
    """Collects per-media insights and follower counts of Instagram professional accounts."""

    platform = PLATFORM

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        access_token: str,
        base_url: str = BASE_URL,
        concurrency: int = 4,
        sleep: Sleep = asyncio.sleep,
        max_retries: int = 3,
        clock: Clock | None = None,
        jitter: Jitter = equal_jitter,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._concurrency = concurrency
        self._api = ApiCaller(
            http,
            platform=PLATFORM,
            base_url=base_url,
            # NOTE: the Graph API takes the token as a bearer header too; a header keeps it out of
            # URLs, and so out of httpx's request log lines.
            headers={"Authorization": f"Bearer {access_token}"},
            secrets=[access_token],
            classify=classify,
            sleep=sleep,
            clock=clock,
            max_retries=max_retries,
            jitter=jitter,
        )

    def __repr__(self) -> str:
        return f"InstagramClient(base_url={str(self._api.base_url)!r}, concurrency={self._concurrency})"

    async def fetch_post_metrics(self, posts: Sequence[PostRef]) -> CollectResult:
        ids = unique_ids(posts)
        halted = asyncio.Event()  # set by the first error that every later call would repeat

        async def one(media_id: str) -> CollectResult:
            if halted.is_set():
                return CollectResult()
            try:
                return await self._fetch_media(media_id)
            except PlatformError as err:
                if err.kind is PlatformErrorKind.NOT_FOUND:
                    return CollectResult(missing=[media_id])
                if err.stops_collection:
                    if halted.is_set():
                        return CollectResult()  # report the cause once, not once per media
                    halted.set()
                return CollectResult(errors=[err])

        return CollectResult.combine(await map_bounded(ids, one, limit=self._concurrency))

    async def _fetch_media(self, media_id: str) -> CollectResult:
        if not media_id.isascii() or not media_id.isdigit():
            return CollectResult(missing=[media_id])  # not a media id; would be read as a path
        media = await self._api.get_json(media_id, {"fields": "media_type,media_product_type"})
        is_video = media.get("media_product_type") == "REELS" or media.get("media_type") == "VIDEO"
        body = await self._insights(media_id, metrics_for(media.get("media_product_type")))
        checks = ShapeCheck()
        metrics = parse_insights(body, media_id=media_id, is_video=is_video, checks=checks)
        error = self._api.bad_response(checks, where=f"GET {media_id}/insights")
        errors = [error] if error else []
        if metrics is None:
            return CollectResult(missing=[media_id], errors=errors)
        return CollectResult(metrics={media_id: metrics}, errors=errors)

    async def _insights(self, media_id: str, metrics: tuple[str, ...]) -> Mapping[str, Any]:
        try:
            return await self._api.get_json(f"{media_id}/insights", {"metric": ",".join(metrics)})
        except PlatformError as err:
            # Meta retires metrics now and then (impressions, plays in 2025); when it names the
            # metrics it still accepts, ask once more for the ones we want of those.
            allowed = allowed_metrics(err)
            accepted = tuple(m for m in metrics if allowed is not None and m in allowed)
            if not accepted or accepted == metrics:
                raise
            return await self._api.get_json(f"{media_id}/insights", {"metric": ",".join(accepted)})

    async def discover_posts(self, account: AccountRef, *, since: datetime) -> DiscoverResult:
        """The account's media since ``since`` from ``GET /{ig-user-id}/media``, newest first, page by
        page (``after`` cursor) until a page reaches ``since``, a usage header nears a Meta rate
        limit (the rest waits for the next run), or the page cap."""
        result = DiscoverResult()
        user_id = account.platform_user_id
        if not user_id or not user_id.isascii() or not user_id.isdigit():
            result.errors.append(
                self._api.error(
                    PlatformErrorKind.NOT_FOUND,
                    f"account {account.key}: no valid Instagram user id configured",
                )
            )
            return result
        params = {"fields": _MEDIA_FIELDS, "limit": str(MEDIA_PAGE)}
        path = f"{user_id}/media"
        for _page in range(MEDIA_MAX_PAGES):
            try:
                body, headers = await self._api.get_page(path, params)
            except PlatformError as err:
                result.errors.append(err)
                break
            checks = ShapeCheck()
            page = parse_media_page(body, checks)
            result.posts.extend(post for post in page if post.published_at >= since)
            if (error := self._api.bad_response(checks, where=f"GET {path}")) is not None:
                result.errors.append(error)
            after = _after_cursor(body)
            if after is None or not page or min(post.published_at for post in page) < since:
                break
            if usage_share(headers) >= USAGE_CEILING:
                result.errors.append(
                    self._api.error(
                        PlatformErrorKind.RATE_LIMITED,
                        f"GET {path}: {usage_share(headers):.0f}% of the rate limit used",
                        retry_after=_regain_wait(headers),
                    )
                )
                break
            params = {**params, "after": after}
        return result

    async def fetch_account(self, account: AccountRef) -> AccountCounts:
        """Follower count from ``GET /{ig-user-id}?fields=followers_count``.

        Raises:
            PlatformError: NOT_FOUND when no IG user id is configured or Meta does not know it;
                BAD_RESPONSE when the answer has no readable follower count.
        """
        user_id = account.platform_user_id
        if not user_id or not user_id.isascii() or not user_id.isdigit():
            raise self._api.error(
                PlatformErrorKind.NOT_FOUND, f"account {account.key}: no valid Instagram user id configured"
            )
        body = await self._api.get_json(user_id, {"fields": "followers_count"})
        checks = ShapeCheck()
        followers = checks.count(body, "followers_count", where=f"user {user_id}")
        error = self._api.bad_response(checks, where=f"GET {user_id}")
        if error is not None:
            raise error
        return AccountCounts(account_key=account.key, followers=followers)
