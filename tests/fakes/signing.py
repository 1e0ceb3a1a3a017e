"""Signed Slack-to-bot requests: body encoders, signature headers, an HTTP sender (I/O: SlackSender)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp.test_utils import TestClient
from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
EVENTS_PATH = "/slack/events"


def sign(secret: str, body: bytes, ts: int) -> dict[str, str]:
    """Return the two signature headers Slack adds: HMAC-SHA256 of `v0:{ts}:{body}`."""
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=body)
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature}


def slash_command_body(fields: Mapping[str, str]) -> bytes:
    """Encode a slash command the way Slack does: a plain form body."""
    return urlencode(fields).encode()


def interactivity_body(payload: Mapping[str, Any]) -> bytes:
    """Encode block_actions / view_submission / shortcuts: one form field `payload=<url-encoded JSON>`."""
    return f"payload={quote(json.dumps(payload))}".encode()


def event_body(envelope: Mapping[str, Any]) -> bytes:
    """Encode an Events API envelope: raw JSON."""
    return json.dumps(envelope).encode()


@dataclass(frozen=True, slots=True)
class SentResponse:
    """What the bot answered to one signed request."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed: float

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


class SlackSender:
    """Posts signed requests to the bot's `/slack/events` endpoint, as Slack would.

    `client` is an `aiohttp.ClientSession` (then `url` must be absolute, e.g. `http://127.0.0.1:3000/slack/events`)
    or an `aiohttp.test_utils.TestClient` (then `url` is a path). `clock` gives the Unix time used for
    `X-Slack-Request-Timestamp`; pass a fixed one for deterministic tests.
    """

    def __init__(
        self,
        client: aiohttp.ClientSession | TestClient[Any, Any],
        *,
        secret: str,
        url: str = EVENTS_PATH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._secret = secret
        self._url = url
        self._clock = clock

    async def command(self, fields: Mapping[str, str], **options: Any) -> SentResponse:
        """Send a slash command (see `payloads.slash_command`)."""
        return await self.post(slash_command_body(fields), content_type=FORM, **options)

    async def interactive(self, payload: Mapping[str, Any], **options: Any) -> SentResponse:
        """Send an interactivity payload (block_actions, view_submission, shortcut)."""
        return await self.post(interactivity_body(payload), content_type=FORM, **options)

    async def event(self, envelope: Mapping[str, Any], **options: Any) -> SentResponse:
        """Send an Events API envelope (see `payloads.event`)."""
        return await self.post(event_body(envelope), content_type=JSON, **options)

    async def post(
        self,
        body: bytes,
        *,
        content_type: str,
        timestamp: int | None = None,
        signature: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SentResponse:
        """Sign `body` and POST it.

        Args:
            timestamp: override `X-Slack-Request-Timestamp` (e.g. now - 301 for a stale request); the
                signature is computed over it, so only the replay window can fail.
            signature: override `X-Slack-Signature` (a tampered request).
            retry_num / retry_reason: add `X-Slack-Retry-Num` / `X-Slack-Retry-Reason` (Slack's redelivery).
        """
        ts = int(self._clock()) if timestamp is None else timestamp
        headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        headers.update(sign(self._secret, body, ts))
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        started = time.monotonic()
        async with self._client.post(self._url, data=body, headers=headers) as response:
            content = await response.read()
            return SentResponse(
                status=response.status,
                headers=dict(response.headers),
                body=content,
                elapsed=time.monotonic() - started,
            )
