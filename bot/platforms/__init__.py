"""Collectors of published posts' metrics from platform APIs, implementing the port of
:mod:`bot.runtime.platforms` (one module per platform); ``build_clients`` wires them (no I/O here).

The composition root builds one shared ``httpx.AsyncClient`` (with its timeouts) and passes it
in with the tokens from the environment; a platform without a token gets no client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx

from bot.clock import Clock
from bot.platforms.base import Sleep
from bot.platforms.instagram import InstagramClient
from bot.platforms.x import XClient
from bot.platforms.youtube import YouTubeClient
from bot.runtime.platforms import PlatformClient

__all__ = ["build_clients", "present_tokens"]


def present_tokens(tokens: Mapping[str, str | None]) -> dict[str, str]:
    """The tokens that are set and not blank, stripped: the platforms a collector can ask."""
    return {name: token.strip() for name, token in tokens.items() if token and token.strip()}


def build_clients(
    http: httpx.AsyncClient,
    *,
    tokens: Mapping[str, str | None],
    clock: Clock | None = None,
    sleep: Sleep = asyncio.sleep,
) -> dict[str, PlatformClient]:
    """One client per platform (``x``, ``instagram``, ``youtube``) whose token is set and not blank.

    Args:
        http: the process's shared client.
        tokens: platform name -> token (``X_BEARER_TOKEN``, ``INSTAGRAM_ACCESS_TOKEN``,
            ``YOUTUBE_API_KEY``); other names are ignored.
        clock: "now" for rate-limit and quota reset times (default: system time).
        sleep: awaited between retries.
    """
    present = present_tokens(tokens)
    clients: dict[str, PlatformClient] = {}
    if "x" in present:
        clients["x"] = XClient(http, bearer_token=present["x"], clock=clock, sleep=sleep)
    if "instagram" in present:
        clients["instagram"] = InstagramClient(
            http, access_token=present["instagram"], clock=clock, sleep=sleep
        )
    if "youtube" in present:
        clients["youtube"] = YouTubeClient(http, api_key=present["youtube"], clock=clock, sleep=sleep)
    return clients
