"""Writing action items (I/O through a passed-in AsyncSession): add one, mark one done, remember
where its message went."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.ids import Status
from bot.actions.models import ActionItem
from bot.actions.queries import get_item, view_of
from bot.actions.records import ItemView, NewItem
from bot.errors import BotError


async def add_item(session: AsyncSession, *, item: NewItem, user_id: str, now: datetime) -> ItemView:
    row = ActionItem(
        review_period=item.target.period,
        what=item.what,
        owner_id=item.owner_id,
        due_month=item.due_month,
        status=Status.OPEN.value,
        created_by=user_id,
        created_at=now,
        channel_id=item.target.channel_id,
        thread_ts=item.target.thread_ts,
        version=1,
    )
    session.add(row)
    await session.flush()
    return view_of(row)


async def mark_done(
    session: AsyncSession, *, item_id: int, user_id: str, is_admin: bool, now: datetime
) -> ItemView:
    """Mark the item done; only its owner (or an admin) may, and only once.

    Raises:
        BotError: ``actions.errors.unknown_item``, ``actions.errors.not_owner`` (param ``owner``),
            ``actions.errors.already_done`` (params ``who``, ``when``).
    """
    item = await get_item(session, item_id=item_id)
    if item is None:
        raise BotError("actions.errors.unknown_item")
    if item.owner_id != user_id and not is_admin:
        raise BotError("actions.errors.not_owner", owner=item.owner_id)
    changed = await session.execute(
        update(ActionItem)
        .where(ActionItem.id == item_id, ActionItem.status == Status.OPEN.value)
        .values(status=Status.DONE.value, done_at=now, done_by=user_id, version=ActionItem.version + 1)
    )
    if getattr(changed, "rowcount", 0) != 1:  # done already (a double click, or another replica)
        raise BotError("actions.errors.already_done")
    done = await get_item(session, item_id=item_id)
    assert done is not None
    return done


async def attach_message(session: AsyncSession, *, item_id: int, message_ts: str) -> None:
    await session.execute(update(ActionItem).where(ActionItem.id == item_id).values(message_ts=message_ts))
