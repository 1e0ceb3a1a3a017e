"""Nominated wins: store one, whether it came from the message shortcut or the App Home (I/O: a
passed-in AsyncSession)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import dialect_insert
from bot.digest.models import Win


async def save_win(
    session: AsyncSession,
    *,
    channel_id: str,
    message_ts: str,
    permalink: str | None,
    message_author: str | None,
    what: str,
    kpi_key: str | None,
    nominated_by: str,
    now: datetime,
) -> None:
    """Store a nominated win; the same person nominating the same message again updates it."""
    stmt = dialect_insert(session)(Win).values(
        channel_id=channel_id,
        message_ts=message_ts,
        permalink=permalink,
        message_author=message_author,
        what_happened=what,
        kpi_key=kpi_key,
        nominated_by=nominated_by,
        created_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["channel_id", "message_ts", "nominated_by"],
        set_={"what_happened": what, "kpi_key": kpi_key, "permalink": stmt.excluded.permalink},
    )
    await session.execute(stmt)
