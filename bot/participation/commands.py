"""Writing participation: marks from events (idempotent upserts), a manager's nudge settings, nudge
claims, and the month's rate as the ``manager_participation`` KPI's value (I/O: a passed-in AsyncSession)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import db
from bot.config import KpiSettings
from bot.keys import claim_key, event_key
from bot.kpi.models import KpiValue
from bot.kpi.values import record_value
from bot.participation.ids import NudgeStatus
from bot.participation.models import ParticipationMark, ParticipationNudge, ParticipationPrefs
from bot.participation.policy import Mark

#: ``kpi_value.source`` of the rate the bot writes.
RATE_SOURCE = "derived"


async def record_mark(
    session: AsyncSession, mark: Mark, *, event_id: str | None = None, now: datetime | None = None
) -> bool:
    """Store ``mark`` under its natural key: the same reaction or reply delivered again (Slack's
    retries, the other mode, another replica) changes nothing; a removal, or an add after it, applies
    when its event is not older than the one stored. With ``event_id``, the delivery is claimed first
    (:func:`bot.keys.claim_key`) and a delivery seen before changes nothing (False)."""
    if event_id and not await claim_key(session, key=event_key(event_id), now=now or mark.at):
        return False
    insert = db.dialect_insert(session)
    stmt = insert(ParticipationMark).values(
        kind=mark.kind.value,
        user_id=mark.user_id,
        channel_id=mark.channel_id,
        message_ts=mark.message_ts,
        item=mark.item,
        at=mark.at,
        event_time=mark.event_time,
        removed=mark.removed,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "channel_id", "message_ts", "user_id", "item"],
        set_={
            "removed": stmt.excluded.removed,
            "event_time": stmt.excluded.event_time,
            "at": stmt.excluded.at,
        },
        where=ParticipationMark.event_time <= stmt.excluded.event_time,
    )
    await session.execute(stmt)
    return True


async def _prefs(session: AsyncSession, user_id: str, now: datetime) -> ParticipationPrefs:
    insert = db.dialect_insert(session)
    await session.execute(
        insert(ParticipationPrefs)
        .values(user_id=user_id, nudges_off=False, remind_on=None, updated_at=now)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    row = await session.scalar(
        select(ParticipationPrefs).where(ParticipationPrefs.user_id == user_id).with_for_update()
    )
    assert row is not None
    return row


async def set_nudges(session: AsyncSession, *, user_id: str, on: bool, now: datetime) -> None:
    """A manager's own switch (App Home)."""
    row = await _prefs(session, user_id, now)
    row.nudges_off = not on
    row.updated_at = now
    await session.flush()


async def remind_on(session: AsyncSession, *, user_id: str, day: date, now: datetime) -> None:
    """ "Remind me next week": no nudge before ``day``, one on it while still silent."""
    row = await _prefs(session, user_id, now)
    row.remind_on = day
    row.updated_at = now
    await session.flush()


async def claim_nudge(session: AsyncSession, *, user_id: str, slot: str, now: datetime) -> bool:
    """Claim the nudge of ``slot`` for ``user_id``; False when it was claimed before (another
    replica, an earlier run). A reminder slot clears the manager's "remind me" date."""
    insert = db.dialect_insert(session)
    result = await session.execute(
        insert(ParticipationNudge)
        .values(user_id=user_id, slot=slot, status=NudgeStatus.CLAIMED.value, claimed_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "slot"])
    )
    claimed = bool(getattr(result, "rowcount", 0))
    if claimed and slot.startswith("r"):
        await session.execute(
            update(ParticipationPrefs)
            .where(ParticipationPrefs.user_id == user_id)
            .values(remind_on=None, updated_at=now)
        )
    return claimed


async def nudge_sent(session: AsyncSession, *, user_id: str, slot: str, now: datetime) -> None:
    await session.execute(
        update(ParticipationNudge)
        .where(ParticipationNudge.user_id == user_id, ParticipationNudge.slot == slot)
        .values(status=NudgeStatus.SENT.value, sent_at=now)
    )


async def store_rate(
    session: AsyncSession, *, kpis: Sequence[KpiSettings], month: str, value: float | None, now: datetime
) -> int:
    """Write ``value`` as ``month``'s value of each ``manager_participation`` KPI, unless it is already
    the latest value (the history stays short); how many values were written."""
    if value is None:
        return 0
    written = 0
    for kpi in kpis:
        latest = await session.scalar(
            select(KpiValue.value)
            .where(KpiValue.kpi_key == kpi.key, KpiValue.month == month, KpiValue.day.is_(None))
            .order_by(KpiValue.id.desc())
            .limit(1)
        )
        if latest is not None and math.isclose(latest, value, abs_tol=1e-9):
            continue
        await record_value(
            session,
            kpi=kpi.key,
            month=month,
            day=None,
            value=value,
            source=RATE_SOURCE,
            user_id=None,
            now=now,
        )
        written += 1
    return written
