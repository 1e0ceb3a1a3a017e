"""Channel posts that survive Slack's ambiguous failures without doubling, and ``respond`` with retries
(Slack I/O).

Why not the SDK's retries: a 503 or a reset connection can come *after* Slack stored the message, and
a blind retry then posts it twice (a second review request with live buttons, a second reminder).
:func:`post_once` tags the post with a one-off key in its message metadata, posts without automatic
retries, and after such a failure looks for its key in the channel (or thread) before posting again.
A 429 is always safe to retry: Slack refused the call before doing anything.

DMs are not posted this way: reading a DM's history needs ``im:history``, which the app does not ask
for, so DMs keep the SDK's retries (at least once: a notification twice beats one never sent).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from slack_sdk.webhook.webhook_response import WebhookResponse

from bot.slack.blocks import Message
from bot.slack.client import sdk_logger, without_retries
from bot.slack.identity import own_identity
from bot.slack.verify import response_url_allowed

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

#: ``event_type`` of the metadata that carries a post's one-off key (when it has no metadata of its own).
POST_EVENT_TYPE = "sns_bot_post"
POST_KEY = "post_key"
ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
#: How many of the channel's newest messages are searched for a post that may have gone through.
LOOKBACK = 50


@dataclass(frozen=True, slots=True)
class Posted:
    channel: str
    ts: str


def _tagged(message: Message, key: str) -> dict[str, Any]:
    kwargs = message.kwargs()
    metadata = message.metadata or {"event_type": POST_EVENT_TYPE, "event_payload": {}}
    kwargs["metadata"] = {
        "event_type": metadata["event_type"],
        "event_payload": {**(metadata.get("event_payload") or {}), POST_KEY: key},
    }
    return kwargs


def _has_key(message: dict[str, Any], key: str) -> bool:
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    return isinstance(payload, dict) and payload.get(POST_KEY) == key


async def _find(client: AsyncWebClient, *, channel: str, thread_ts: str | None, key: str) -> str | None:
    """The ts of *this bot's* message carrying ``key`` (None when it is not there or cannot be read).

    Only this bot's messages count: anyone in the channel can read a message's metadata and post a
    message carrying the same key.
    """
    try:
        me = await own_identity(client)
        if thread_ts:
            response = await client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, limit=200
            )
        else:
            response = await client.conversations_history(
                channel=channel, include_all_metadata=True, limit=LOOKBACK
            )
    except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
        log.warning("could not look for an earlier attempt in %s: %r", channel, exc)
        return None
    for message in response.get("messages") or []:
        if _has_key(message, key) and me.posted(message):
            return str(message["ts"])
    return None


def _retry_after(exc: SlackApiError) -> float:
    try:
        return float(exc.response.headers.get("Retry-After", 1))
    except (TypeError, ValueError):
        return 1.0


async def post_once(
    client: AsyncWebClient,
    *,
    channel: str,
    message: Message,
    thread_ts: str | None = None,
    sleep: Sleep = asyncio.sleep,
    key: str | None = None,
    look_first: bool = False,
) -> Posted:
    """Post ``message`` to a channel (or a thread in it) exactly once, retrying Slack's transient
    failures; raises the last error when they outlast :data:`ATTEMPTS` or Slack refuses for good.

    ``key``: the one-off key, when the caller may call again for the same post later (an outbox
    retry); with ``look_first`` (an earlier call may have posted it) the channel or thread is
    searched for it before posting.
    """
    if key is not None and look_first:
        found = await _find(client, channel=channel, thread_ts=thread_ts, key=key)
        if found is not None:
            return Posted(channel, found)
    key = key or uuid.uuid4().hex
    kwargs = _tagged(message, key)
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    poster = without_retries(client)
    for attempt in range(ATTEMPTS):
        last = attempt == ATTEMPTS - 1
        try:
            response = await poster.chat_postMessage(channel=channel, **kwargs)
            return Posted(str(response.get("channel") or channel), str(response["ts"]))
        except SlackApiError as exc:
            status = exc.response.status_code
            if status == 429 and not last:
                await sleep(_retry_after(exc))
                continue  # refused before anything happened: nothing to look for
            if status < 500 or last:
                raise
            log.warning("posting to %s: HTTP %s; looking before trying again", channel, status)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            if last:
                raise
            log.warning("posting to %s: %r; looking before trying again", channel, exc)
        await sleep(BACKOFF_SECONDS * 2**attempt)
        found = await _find(client, channel=channel, thread_ts=thread_ts, key=key)
        if found is not None:
            log.info("the post to %s went through after all (ts %s)", channel, found)
            return Posted(channel, found)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------
# respond() with retries
# ---------------------------------------------------------------------------------------------


def _respond_retry_handlers() -> list[Any]:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


class RetryingRespond(AsyncRespond):
    """Bolt's ``respond`` with the Web API client's retries (429 honouring Retry-After, 5xx, resets).

    Bolt's own sends once (its webhook client only retries a failed connect) and returns a 429 or a
    503 without raising, so the person's answer was silently lost. An ephemeral answer shown twice
    after an ambiguous failure is the accepted price (a response_url cannot be read back).
    """

    session: aiohttp.ClientSession | None = None

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Any = None,
        attachments: Any = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        if isinstance(text, dict):
            message = _build_message(**text)
        else:
            message = _build_message(
                text=text,
                blocks=blocks,
                attachments=attachments,
                response_type=response_type,
                replace_original=replace_original,
                delete_original=delete_original,
                unfurl_links=unfurl_links,
                unfurl_media=unfurl_media,
                thread_ts=thread_ts,
                metadata=metadata,
            )
        client = AsyncWebhookClient(
            url=self.response_url,
            proxy=self.proxy,
            ssl=self.ssl,
            session=self.session,
            logger=sdk_logger("slack_sdk.webhook.async_client"),
            retry_handlers=_respond_retry_handlers(),
        )
        response = await client.send_dict(message)
        if response.status_code != 200:
            log.warning("response_url answered HTTP %s: %s", response.status_code, response.body[:200])
        return response


class RefusedRespond:
    """``respond`` for a ``response_url`` that is not Slack's: it sends nothing (see
    :func:`bot.slack.verify.response_url_allowed`)."""

    response_url = None

    async def __call__(self, *_args: Any, **_kwargs: Any) -> None:
        log.warning("an answer through a response_url that is not Slack's was not sent")


def make_respond_middleware(*, api_url: str) -> Callable[..., Awaitable[Any]]:
    """Bolt middleware: every listener's ``respond`` retries (see :class:`RetryingRespond`), and only
    ever POSTs to Slack's hosts: a ``response_url`` elsewhere gets :class:`RefusedRespond`."""

    async def use_retrying_respond(context: Any, next: Callable[[], Awaitable[Any]]) -> Any:
        url = context.get("response_url")
        if url and not response_url_allowed(url, api_url=api_url):
            context.pop("response_url", None)
            context["respond"] = RefusedRespond()
        elif url:
            client = context.get("client")
            respond = RetryingRespond(
                response_url=url,
                proxy=getattr(client, "proxy", None),
                ssl=getattr(client, "ssl", None),
            )
            respond.session = getattr(client, "session", None)  # the app's shared connection pool, if any
            context["respond"] = respond
        return await next()

    return use_retrying_respond
