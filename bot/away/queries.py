"""Who is away and who decides for them, read from the store (I/O through a passed-in AsyncSession).

Read by the review feature (reminders, the request message, who may decide) and by the App Home.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.away.models import UserState


async def away_until(session: AsyncSession, *, user_id: str, today: date) -> date | None:
    """The last away day of ``user_id`` if it is ``today`` or later, else ``None``."""
    until = await session.scalar(select(UserState.away_until).where(UserState.user_id == user_id))
    return until if until is not None and until >= today else None


async def away_users(session: AsyncSession, *, on: date) -> set[str]:
    """Users away on local date ``on`` (reminders skip them)."""
    rows = await session.scalars(select(UserState.user_id).where(UserState.away_until >= on))
    return set(rows.all())


async def away_until_by_user(session: AsyncSession, *, on: date) -> dict[str, date]:
    """Users away on ``on`` with their last away day (for "<@U…> is away until …" in messages)."""
    rows = await session.execute(
        select(UserState.user_id, UserState.away_until).where(UserState.away_until >= on)
    )
    return {user_id: until for user_id, until in rows.all() if until is not None}


async def delegate_of(session: AsyncSession, *, user_id: str) -> str | None:
    """Who ``user_id`` named to decide for them while away (stored whether or not they are away)."""
    return await session.scalar(select(UserState.delegate_id).where(UserState.user_id == user_id))


async def delegates_while_away(session: AsyncSession, *, on: date) -> dict[str, str]:
    """Users away on ``on`` who named a delegate → that delegate (reminders and review messages)."""
    rows = await session.execute(
        select(UserState.user_id, UserState.delegate_id).where(
            UserState.away_until >= on, UserState.delegate_id.is_not(None)
        )
    )
    return {user_id: delegate for user_id, delegate in rows.all() if delegate}


async def delegators_of(session: AsyncSession, *, delegate: str, on: date) -> frozenset[str]:
    """Users away on ``on`` who named ``delegate`` to decide for them (see
    :func:`bot.review.policy.authority`)."""
    rows = await session.scalars(
        select(UserState.user_id).where(UserState.delegate_id == delegate, UserState.away_until >= on)
    )
    return frozenset(rows.all())
