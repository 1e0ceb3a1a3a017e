"""Slack I/O of one digest post: post with backoff (looking in the channel first whenever an
earlier post may have gone through), find this bot's post of a digest, share the attachments in its
thread, and tell transient Slack failures from permanent ones (I/O: Slack, and the claim row before
each post).

When the channel cannot be read, whether a post went through cannot be told: :class:`Unverifiable`
stops the send, and nothing is posted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.digest.claims import ClaimLost, Hold, mark_attempt
from bot.digest.ids import is_digest_message
from bot.digest.render import Upload
from bot.slack.blocks import Message
from bot.slack.client import without_retries
from bot.slack.identity import own_identity

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

#: Posting attempts of one send (each after the Web API client's own quick retries).
POST_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 60.0
#: How far before a claim the channel history is searched (clock skew between replicas).
RECOVERY_MARGIN = timedelta(minutes=10)
#: What a Slack call may raise: a refusal (``ok: false`` or an HTTP error), a network error, a timeout.
SLACK_ERRORS = (TimeoutError, SlackApiError, aiohttp.ClientError, OSError)


class Unverifiable(Exception):
    """The channel cannot be read (``not_in_channel``, ``channel_not_found``, a missing scope, …), so
    whether an earlier post went through cannot be told: posting again could double the digest."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


async def _readable(call: Awaitable[Any]) -> Any:
    """Await a read from Slack; a refusal that retrying will not fix becomes :class:`Unverifiable`."""
    try:
        return await call
    except SlackApiError as exc:
        if is_transient(exc):
            raise
        raise Unverifiable(error_text(exc)) from exc


async def find_posted(deps: Deps, *, kind: str, period: str, channel: str, since: datetime) -> str | None:
    """The ts of this bot's digest post already in ``channel``, if any.

    Matched by its metadata *and* this bot's ``bot_id``: anyone in the channel can read the metadata
    and post a message that carries it, and taking theirs for ours would never post the digest.

    Raises:
        Unverifiable: the channel (or this bot's identity) cannot be read.
        SlackApiError, aiohttp.ClientError, TimeoutError, OSError: transient failures.
    """
    me = await _readable(own_identity(deps.slack))
    cursor: str | None = None
    oldest = f"{(since - RECOVERY_MARGIN).timestamp():.6f}"
    for _page in range(20):  # a digest is found near the claim time; never page through a whole channel
        response = await _readable(
            deps.slack.conversations_history(
                channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
            )
        )
        for message in response.get("messages") or []:
            if me.posted(message) and is_digest_message(message, kind=kind, period=period, channel=channel):
                return str(message["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not response.get("has_more") or not cursor:
            return None
    return None


def is_transient(exc: Exception) -> bool:
    """Whether retrying later may succeed: rate limits, Slack's 5xx and its own transient errors,
    network errors and timeouts."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        return (
            status == 429
            or status >= 500
            or error
            in ("ratelimited", "internal_error", "service_unavailable", "fatal_error", "request_timeout")
        )
    return isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError)


def error_text(exc: Exception) -> str:
    """A failure in a word or two, for logs, the claim row and the admins (``not_in_channel``, ``503``)."""
    if isinstance(exc, SlackApiError) and isinstance(exc.response.data, dict):
        return str(exc.response.data.get("error") or exc.response.status_code)
    if isinstance(exc, Unverifiable):
        return exc.error
    return type(exc).__name__


def _may_have_posted(exc: Exception) -> bool:
    """A 429 was refused before anything happened; a 5xx, a lost connection or a transient
    ``ok: false`` (``fatal_error`` may have done part of the work) may have posted."""
    if isinstance(exc, SlackApiError):
        return getattr(exc.response, "status_code", 200) != 429
    return True


async def post_digest(
    deps: Deps,
    message: Message,
    *,
    hold: Hold,
    since: datetime,
    look_first: bool,
    sleep: Sleep,
) -> tuple[str, bool]:
    """Post with backoff on 429/5xx/network errors; returns ``(ts, found)``, ``found`` when the post
    was in the channel before this call sent any (an earlier attempt went through). A post of this
    call found after an answer that hid it counts as posted.

    Before every post the claim is confirmed (and marked as attempted). After an answer that may
    hide a successful post, and first of all with ``look_first``, the channel is searched before
    posting again; a failed search is retried like a failed post, never skipped.

    Raises:
        ClaimLost: another process took the claim over; nothing more was posted.
        Unverifiable: the channel cannot be read, so a post may or may not be there.
        SlackApiError etc.: a permanent refusal at once, or the last transient error when the
            attempts ran out.
    """
    # Our own loop retries, checking the channel first; the SDK's blind retries would double-post.
    poster = without_retries(deps.slack)
    look = look_first
    sent = False
    last: Exception | None = None
    for attempt in range(POST_ATTEMPTS):
        if last is not None:
            delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
            log.warning("%s: %s; retrying in %.0fs", hold, error_text(last), delay)
            await sleep(delay)
        if look:
            try:
                found = await find_posted(
                    deps, kind=hold.kind, period=hold.period, channel=hold.channel, since=since
                )
            except SLACK_ERRORS as exc:
                if not is_transient(exc):
                    raise
                last = exc
                continue
            if found is not None:
                return found, not sent
            look = False
        if not await mark_attempt(deps, hold):
            raise ClaimLost
        sent = True
        try:
            response = await poster.chat_postMessage(channel=hold.channel, **message.kwargs())
            return str(response["ts"]), False
        except SLACK_ERRORS as exc:
            if not is_transient(exc):
                raise
            last = exc
            look = _may_have_posted(exc)
            hold.ambiguous = hold.ambiguous or look
    assert last is not None
    raise last


async def _files_in_thread(deps: Deps, *, channel: str, ts: str) -> set[str]:
    """Names of the files this bot already shared in the digest's thread."""
    me = await _readable(own_identity(deps.slack))
    response = await _readable(deps.slack.conversations_replies(channel=channel, ts=ts, limit=200))
    names: set[str] = set()
    for message in response.get("messages") or []:
        if message.get("ts") != ts and me.shared(message):
            names.update(str(f.get("name")) for f in message.get("files") or [] if isinstance(f, dict))
    return names


async def attach(deps: Deps, *, channel: str, ts: str, uploads: Sequence[Upload], look: bool) -> None:
    """Share the chart and CSV in the digest's thread; with ``look`` (a digest found after a crash, or
    attachments retried), only those this bot has not shared there yet.

    Raises:
        Unverifiable, SlackApiError etc.: the caller retries later or gives up.
    """
    if look:
        present = await _files_in_thread(deps, channel=channel, ts=ts)
        uploads = [u for u in uploads if u.filename not in present]
    if not uploads:
        return
    await deps.slack.files_upload_v2(
        channel=channel,
        thread_ts=ts,
        file_uploads=[{"content": u.content, "filename": u.filename, "title": u.title} for u in uploads],
    )
