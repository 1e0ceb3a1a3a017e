"""Bolt middleware: an Events API delivery seen before is acknowledged and dropped (Slack I/O edge)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.keys import claim_key

log = logging.getLogger(__name__)


def make_event_dedupe_middleware(
    sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> Callable[..., Awaitable[Any]]:
    """Bolt middleware: an Events API delivery whose ``event_id`` was seen before (Slack retries
    after a slow or failed answer, with the same id) is acknowledged and dropped."""

    async def dedupe_events(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id:
            async with sessions.begin() as session:
                fresh = await claim_key(session, key=f"event:{event_id}", now=clock.now())
            if not fresh:
                log.info("duplicate event delivery ignored: %s", event_id)
                # Not calling next() ends the chain; an explicit 200 stops Slack's retries.
                return BoltResponse(status=200, body="")
        return await next()

    return dedupe_events
