"""Bolt middleware: an Events API delivery seen before is acknowledged and dropped (Slack I/O edge).

Event types whose listeners claim the ``event_id`` themselves, after the ack and only for the deliveries
that matter to them (``after_ack``), pass through untouched: a channel the bot is in delivers every
message, and claiming each one in the store before its ack would cost a write per message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from slack_bolt.response import BoltResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.keys import claim_key, event_key

log = logging.getLogger(__name__)


def make_event_dedupe_middleware(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, *, after_ack: Iterable[str] = ()
) -> Callable[..., Awaitable[Any]]:
    """Bolt middleware: an Events API delivery whose ``event_id`` was seen before (Slack retries
    after a slow or failed answer, with the same id) is acknowledged and dropped; event types in
    ``after_ack`` are left to their listeners, which claim :func:`event_key` themselves."""
    own = frozenset(after_ack)

    async def dedupe_events(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if own and (body.get("event") or {}).get("type") in own:
            return await next()
        if isinstance(event_id, str) and event_id:
            async with sessions.begin() as session:
                fresh = await claim_key(session, key=event_key(event_id), now=clock.now())
            if not fresh:
                log.info("duplicate event delivery ignored: %s", event_id)
                # Not calling next() ends the chain; an explicit 200 stops Slack's retries.
                return BoltResponse(status=200, body="")
        return await next()

    return dedupe_events
