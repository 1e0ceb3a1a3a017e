"""Claiming a manager's welcome (I/O through a passed-in AsyncSession): one row per manager, inserted
once across restarts and replicas, with the welcome DM owed in the same transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import db
from bot.slack import outbox
from bot.welcome.ids import DeliveryKind, Via, welcome_key
from bot.welcome.models import ManagerWelcome


async def claim_welcome(
    session: AsyncSession, *, user_id: str, via: Via, now: datetime
) -> outbox.Owed | None:
    """Claim ``user_id``'s welcome and owe its DM; ``None`` when they were welcomed before.

    ``INSERT … ON CONFLICT DO NOTHING``: two replicas (or a Home opened twice at once) race on the
    primary key, and exactly one of them inserts.
    """
    insert = db.dialect_insert(session)
    result = await session.execute(
        insert(ManagerWelcome)
        .values(user_id=user_id, via=via.value, welcomed_at=now)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    if not getattr(result, "rowcount", 0):
        return None
    key = welcome_key(user_id)
    return await outbox.enqueue(
        session, kind=DeliveryKind.DM.value, key=key, payload={"user_id": user_id, "key": key}, now=now
    )


async def was_welcomed(session: AsyncSession, *, user_id: str) -> bool:
    return await session.get(ManagerWelcome, user_id) is not None
