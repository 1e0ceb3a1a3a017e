"""The monthly review's memory (pure): which items a digest opens with, their status, what carries over."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.actions.ids import Status
from bot.actions.records import ItemView, due_months, memory_of
from bot.periods import PeriodKind, parse_period

NOV = parse_period(PeriodKind.MONTHLY, "2026-11")


def item(n: int, review: str, due: str, status: Status = Status.OPEN) -> ItemView:
    return ItemView(
        id=n,
        review_period=review,
        what=f"item {n}",
        owner_id="U0OWNER01",
        due_month=due,
        status=status,
        created_by="U0MAKER01",
        created_at=datetime(2026, 1, 1, tzinfo=UTC).replace(day=n),
        channel_id="C0MGMT0001",
        thread_ts="1.2",
        message_ts=None,
        done_at=None,
        done_by=None,
        version=1,
    )


def test_last_months_items_whatever_their_status_then_the_overdue_older_ones() -> None:
    items = [
        item(1, "2026-10", "2026-11", Status.DONE),
        item(2, "2026-10", "2026-12"),  # open, not due yet
        item(3, "2026-10", "2026-11"),  # open past its due month
        item(4, "2026-09", "2026-10"),  # older and overdue: carried
        item(5, "2026-09", "2027-01"),  # older, not due yet: not shown
        item(6, "2026-08", "2026-09", Status.DONE),  # older and done: not shown
        item(7, "2026-11", "2026-12"),  # added on this very digest: not last month's
    ]
    memory = memory_of(items, period=NOV)
    assert [i.id for i in memory.last] == [1, 2, 3]
    assert [i.id for i in memory.carried] == [4]
    assert (memory.done_count, memory.overdue_count, memory.empty) == (1, 1, False)
    assert memory_of([], period=NOV).empty


def test_an_item_is_overdue_only_while_open_after_its_due_month() -> None:
    assert item(1, "2026-10", "2026-11").overdue(NOV)
    assert not item(1, "2026-10", "2026-12").overdue(NOV)
    assert not item(1, "2026-10", "2026-10", Status.DONE).overdue(NOV)


def test_due_months_start_with_the_current_one() -> None:
    assert [m.label for m in due_months(parse_period(PeriodKind.MONTHLY, "2026-11"))] == [
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
        "2027-03",
        "2027-04",
    ]
