"""Action items as plain data, and the monthly review's memory computed from them: last month's
items with their status, and the open items past their due month carried over (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.actions.ids import AddTarget, Status
from bot.periods import Period

#: Months a new item may be due in: this month and the five after it.
DUE_MONTHS = 6
#: Characters of an item's "what".
WHAT_MAX = 300


@dataclass(frozen=True, slots=True)
class NewItem:
    """A validated "add an action item" form."""

    target: AddTarget
    what: str
    owner_id: str
    due_month: str


@dataclass(frozen=True, slots=True)
class ItemView:
    id: int
    review_period: str
    what: str
    owner_id: str
    due_month: str
    status: Status
    created_by: str
    created_at: datetime
    channel_id: str
    thread_ts: str
    message_ts: str | None
    done_at: datetime | None
    done_by: str | None
    version: int

    @property
    def done(self) -> bool:
        return self.status is Status.DONE

    def overdue(self, month: Period) -> bool:
        """Open while its due month is ``month`` or earlier (``month``: a month that has ended)."""
        return not self.done and self.due_month <= month.label


@dataclass(frozen=True, slots=True)
class ReviewMemory:
    """What the monthly digest of ``period`` opens with.

    ``last``: the items added on the previous digest (during ``period``), whatever their status;
    ``carried``: open items from earlier digests whose due month has ended — carried over until done.
    """

    period: Period
    last: tuple[ItemView, ...]
    carried: tuple[ItemView, ...]

    @property
    def empty(self) -> bool:
        return not (self.last or self.carried)

    @property
    def done_count(self) -> int:
        return sum(1 for item in self.last if item.done)

    @property
    def overdue_count(self) -> int:
        """Items of last month still open past their due month: they carry over to the next review."""
        return sum(1 for item in self.last if item.overdue(self.period))


def memory_of(items: Iterable[ItemView], *, period: Period) -> ReviewMemory:
    """Split the items a query returned into last month's and the carried-over ones (oldest first)."""
    previous = period.previous().label
    last, carried = [], []
    for item in sorted(items, key=lambda i: (i.due_month, i.created_at, i.id)):
        if item.review_period == previous:
            last.append(item)
        elif item.review_period < previous and item.overdue(period):
            carried.append(item)
    last.sort(key=lambda i: (i.created_at, i.id))
    return ReviewMemory(period, tuple(last), tuple(carried))


def due_months(current: Period, n: int = DUE_MONTHS) -> list[Period]:
    """The months a new item may be due in: ``current`` and the ``n - 1`` after it."""
    months = [current]
    while len(months) < n:
        months.append(months[-1].next())
    return months
