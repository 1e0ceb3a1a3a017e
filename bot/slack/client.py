"""The Slack Web API client every part of the process uses (built in the composition root)."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient


def sdk_logger(name: str) -> logging.Logger:
    """The logger to hand a slack_sdk client, with its level set explicitly.

    NOTE: the SDK's clients test ``logger.level <= logging.DEBUG`` (the logger's own level, not the
    effective one) before formatting a debug line of the whole request and response. A logger left
    at NOTSET (0) passes that test, so every Web API call and ``response_url`` post built a string
    of its entire payload that logging then dropped: 5-10 % of the bot's CPU under load. Pinning the
    level to the effective one keeps ``LOG_LEVEL=DEBUG`` working and costs nothing otherwise.
    """
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logger.getEffectiveLevel())
    return logger


def build_web_client(
    *, token: str | None, base_url: str, timeout: int = 15, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """An ``AsyncWebClient`` on ``base_url`` that retries 429 (honouring ``Retry-After``), 5xx and
    dropped connections. Bolt copies ``base_url`` and the retry handlers into the client it hands
    each listener, so listeners and scheduled jobs behave the same."""
    # One shared connection pool (``session``) saves a TCP (and TLS) handshake per call; Bolt copies
    # it into its per-request clients too. Without one, the SDK opens a session per call.
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        session=session,
        logger=sdk_logger("slack_sdk.web.async_client"),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def without_retries(client: AsyncWebClient) -> AsyncWebClient:
    """The same client with no automatic retries, for calls that must never run twice blindly.

    A 5xx or a dropped connection can hide a post that went through; the caller decides whether
    to post again (e.g. after looking for the message in the channel), not the SDK.
    """
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        session=client.session,
        logger=client.logger,
        retry_handlers=[],
    )


def without_token(client: AsyncWebClient) -> AsyncWebClient:
    """The same client with no token: the one Bolt copies into each request's client when the token
    comes from ``authorize`` (:mod:`bot.slack.authorization`) rather than from the client."""
    return AsyncWebClient(
        token=None,
        base_url=client.base_url,
        timeout=client.timeout,
        session=client.session,
        logger=client.logger,
        retry_handlers=list(client.retry_handlers or []),
    )
