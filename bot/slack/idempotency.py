"""Exactly-once keys: a delivery or one-time action is claimed by inserting its key (I/O: the store)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.response import BoltResponse
from sqlalchemy import ColumnElement, and_, delete, not_, or_, select
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


#: How long each kind of key can still have an effect, by prefix (the first that matches wins);
#: ``None`` keeps it. A kind not listed here is kept: pruning must never let a second effect through.
RETENTION: tuple[tuple[str, timedelta | None], ...] = (
    # Events API: Slack redelivers an event 3 times within about 5 minutes of a failed answer.
    ("event:", timedelta(days=1)),
    # One modal, one effect: double clicks and Slack's retries of a submission come within seconds,
    # and a view id is never submitted again once its modal has closed.
    ("review:view:", timedelta(days=1)),
    ("home:kpi_view:", timedelta(days=1)),
    # Reminders and escalations: the request's counters move on in the same transaction, so the key
    # only guards against sweeps running at the same moment (replicas).
    ("review:", timedelta(days=30)),
    # Admins' notes about one digest (failed, late, unverified, finally out: bot.digest.notices):
    # once per period and channel, and "out" is only sent after a "late"; a digest is retried until
    # posted and an admin may post an old period on demand, so keep them for a year and a month.
    ("digest_", timedelta(days=400)),
    # "Admins were told this platform token is refused": one row per token ever refused, kept, so a
    # token that stays broken is not reported again every day.
    ("kpi.collector.auth:", None),
)


def retention_of(key: str) -> timedelta | None:
    """How long ``key`` is kept (``None``: for good)."""
    return next((keep for prefix, keep in RETENTION if key.startswith(prefix)), None)


async def prune_keys(session: AsyncSession, *, now: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` keys that can no longer matter (see :data:`RETENTION`); how many."""
    doomed: list[ColumnElement[bool]] = []
    for index, (prefix, keep) in enumerate(RETENTION):
        if keep is None:
            continue
        # Kinds listed earlier whose prefix extends this one are theirs ("review:view:" vs "review:").
        narrower = [p for p, _ in RETENTION[:index] if p.startswith(prefix)]
        doomed.append(
            and_(
                ProcessedKey.created_at < now - keep,
                ProcessedKey.key.startswith(prefix, autoescape=True),
                *(not_(ProcessedKey.key.startswith(p, autoescape=True)) for p in narrower),
            )
        )
    batch = select(ProcessedKey.key).where(or_(*doomed)).order_by(ProcessedKey.created_at).limit(limit)
    result = await session.execute(delete(ProcessedKey).where(ProcessedKey.key.in_(batch.scalar_subquery())))
    return int(getattr(result, "rowcount", 0) or 0)


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
