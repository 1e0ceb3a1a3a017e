"""Recording milestones (their claim rows) and their announcements (I/O through a passed-in
AsyncSession; no Slack)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import dialect_insert
from bot.milestones.models import Milestone
from bot.milestones.records import Found


async def record(session: AsyncSession, *, found: Found, now: datetime) -> int | None:
    """Insert ``found``'s claim row; its id when this call recorded it, ``None`` when it was recorded
    before (by this process earlier, another replica, or before a restart).

    ``INSERT … ON CONFLICT DO NOTHING`` so a concurrent duplicate neither raises nor aborts the
    surrounding transaction (PostgreSQL aborts a transaction on a unique violation).
    """
    stmt = (
        dialect_insert(session)(Milestone)
        .values(
            kind=found.kind.value,
            subject=found.subject,
            mark=found.mark,
            value=found.value,
            previous=found.previous,
            detail=dict(found.detail),
            detected_at=now,
        )
        .on_conflict_do_nothing(index_elements=["kind", "subject", "mark"])
        .returning(Milestone.id)
    )
    inserted: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return inserted


async def mark_announced(
    session: AsyncSession, *, milestone_id: int, channel: str, ts: str, now: datetime
) -> None:
    """Remember where the announcement went (the first one recorded stays)."""
    await session.execute(
        update(Milestone)
        .where(Milestone.id == milestone_id, Milestone.announced_at.is_(None))
        .values(channel_id=channel, message_ts=ts, announced_at=now)
    )
