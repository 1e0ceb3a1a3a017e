"""Exactly-once keys: a delivery or one-time action is claimed by inserting its key (I/O: the store)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.response import BoltResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import db
from bot.clock import Clock
from bot.slack.models import ProcessedKey

log = logging.getLogger(__name__)


async def claim_key(session: AsyncSession, *, key: str, now: datetime) -> bool:
    """Insert ``key``; True when this call claimed it, False when it was claimed before.

    Uses ``INSERT … ON CONFLICT DO NOTHING`` so a concurrent duplicate neither raises nor
    aborts the surrounding transaction (PostgreSQL aborts a transaction on a unique violation).
    """
    insert = db.dialect_insert(session)
    stmt = (
        insert(ProcessedKey)
        .values(key=key[:200], created_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


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
