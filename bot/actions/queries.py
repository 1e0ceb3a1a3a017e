"""Reading action items (I/O through a passed-in AsyncSession; reads only): one item, an owner's open
items, and the memory a monthly digest opens with."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.ids import Status
from bot.actions.models import ActionItem
from bot.actions.records import ItemView, ReviewMemory, memory_of
from bot.periods import Period

#: Open items listed on an owner's App Home; the rest are counted.
OWNER_SHOWN = 5


def view_of(row: ActionItem) -> ItemView:
    return ItemView(
        id=row.id,
        review_period=row.review_period,
        what=row.what,
        owner_id=row.owner_id,
        due_month=row.due_month,
        status=Status(row.status),
        created_by=row.created_by,
        created_at=row.created_at,
        channel_id=row.channel_id,
        thread_ts=row.thread_ts,
        message_ts=row.message_ts,
        done_at=row.done_at,
        done_by=row.done_by,
        version=row.version,
    )


async def get_item(session: AsyncSession, *, item_id: int) -> ItemView | None:
    row = await session.get(ActionItem, item_id, populate_existing=True)
    return view_of(row) if row is not None else None


async def open_for_owner(
    session: AsyncSession, *, owner_id: str, limit: int = OWNER_SHOWN
) -> tuple[list[ItemView], int]:
    """``owner_id``'s open items, earliest due first (at most ``limit``), and how many there are."""
    mine = and_(ActionItem.owner_id == owner_id, ActionItem.status == Status.OPEN.value)
    total = int(await session.scalar(select(func.count()).select_from(ActionItem).where(mine)) or 0)
    rows = await session.scalars(
        select(ActionItem).where(mine).order_by(ActionItem.due_month, ActionItem.id).limit(limit)
    )
    return [view_of(r) for r in rows], total


async def review_memory(session: AsyncSession, *, period: Period) -> ReviewMemory:
    """What the monthly digest of ``period`` opens with (see :class:`ReviewMemory`)."""
    previous = period.previous().label
    rows = await session.scalars(
        select(ActionItem).where(
            or_(
                ActionItem.review_period == previous,
                and_(
                    ActionItem.review_period < previous,
                    ActionItem.status == Status.OPEN.value,
                    ActionItem.due_month <= period.label,
                ),
            )
        )
    )
    return memory_of([view_of(r) for r in rows], period=period)
