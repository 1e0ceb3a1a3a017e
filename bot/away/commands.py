"""Setting away mode: the last away day and the delegate (I/O through a passed-in AsyncSession; no
Slack except the directory's manager check of a delegate)."""

from __future__ import annotations

from datetime import date, datetime

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.away.models import UserState
from bot.away.policy import check_away_until, check_delegate_pick
from bot.db import dialect_insert
from bot.errors import NotAllowed
from bot.slack.directory import Directory


async def set_away(
    session: AsyncSession, *, user_id: str, until: date | None, today: date, now: datetime
) -> None:
    """Mark ``user_id`` away up to and including ``until`` (``None``: back now).

    Raises:
        BotError: ``away.errors.away_past`` when ``until`` is before ``today``.
    """
    check_away_until(until, today=today)
    # An upsert: two clicks of one user at once must not collide on the primary key.
    stmt = dialect_insert(session)(UserState).values(user_id=user_id, away_until=until, updated_at=now)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[UserState.user_id], set_={"away_until": until, "updated_at": now}
        )
    )


async def check_delegate(
    *, directory: Directory, client: AsyncWebClient, user_id: str, delegate: object
) -> str:
    """The delegate ``user_id`` picked, when it is acceptable: a Slack user id, not themself, and a
    configured manager (user id or member of a manager group; admins count).

    Raises:
        BotError: ``away.errors.delegate_*`` saying what is wrong (nothing is stored).
    """
    picked = check_delegate_pick(delegate, user_id=user_id)
    if not await directory.is_manager(client, picked):
        raise NotAllowed("away.errors.delegate_not_manager", user=f"<@{picked}>")
    return picked


async def set_delegate(session: AsyncSession, *, user_id: str, delegate: str | None, now: datetime) -> None:
    """Store who decides for ``user_id`` while they are away (``None``: nobody). The caller checks
    the delegate first (:func:`check_delegate`)."""
    stmt = dialect_insert(session)(UserState).values(user_id=user_id, delegate_id=delegate, updated_at=now)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[UserState.user_id], set_={"delegate_id": delegate, "updated_at": now}
        )
    )
