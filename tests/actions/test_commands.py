"""Writing and reading action items on both stores: add, mark done once by its owner (or an admin),
and the memory query a monthly digest opens with."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.actions.commands import add_item, mark_done
from bot.actions.ids import AddTarget
from bot.actions.queries import open_for_owner, review_memory
from bot.actions.records import NewItem
from bot.errors import BotError
from bot.periods import PeriodKind, parse_period
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, MGMT_CHANNEL, NOW, OPERATOR


def _new(review: str, due: str, owner: str = OPERATOR, what: str = "do it") -> NewItem:
    return NewItem(AddTarget(review, MGMT_CHANNEL, "1762041600.000100"), what, owner, due)


async def test_only_the_owner_or_an_admin_marks_an_item_done_and_only_once(deps: Deps) -> None:
    async with deps.sessions.begin() as session:
        item = await add_item(session, item=_new("2026-10", "2026-11"), user_id=MANAGER, now=NOW)
    async with deps.sessions.begin() as session:
        with pytest.raises(BotError) as refused:
            await mark_done(session, item_id=item.id, user_id=MANAGER, is_admin=False, now=NOW)
    assert (refused.value.key, refused.value.params) == ("actions.errors.not_owner", {"owner": OPERATOR})
    async with deps.sessions.begin() as session:
        done = await mark_done(session, item_id=item.id, user_id=OPERATOR, is_admin=False, now=NOW)
    assert (done.done, done.done_by, done.version) == (True, OPERATOR, 2)
    async with deps.sessions.begin() as session:
        with pytest.raises(BotError) as again:
            await mark_done(session, item_id=item.id, user_id=OPERATOR, is_admin=False, now=NOW)
        with pytest.raises(BotError) as missing:
            await mark_done(session, item_id=item.id + 99, user_id=OPERATOR, is_admin=True, now=NOW)
    assert (again.value.key, missing.value.key) == (
        "actions.errors.already_done",
        "actions.errors.unknown_item",
    )


async def test_the_memory_query_and_the_owners_open_items(deps: Deps) -> None:
    async with deps.sessions.begin() as session:
        for n, (review, due) in enumerate(
            [
                ("2026-10", "2026-11"),
                ("2026-10", "2026-12"),
                ("2026-09", "2026-10"),
                ("2026-09", "2027-01"),
                ("2026-11", "2026-12"),
            ]
        ):
            await add_item(
                session,
                item=_new(review, due, what=f"item {n}"),
                user_id=MANAGER,
                now=NOW + timedelta(minutes=n),
            )
    async with deps.sessions() as session:
        memory = await review_memory(session, period=parse_period(PeriodKind.MONTHLY, "2026-11"))
        mine, total = await open_for_owner(session, owner_id=OPERATOR, limit=2)
    assert [i.what for i in memory.last] == ["item 0", "item 1"]
    assert [i.what for i in memory.carried] == ["item 2"]
    assert total == 5
    assert [i.due_month for i in mine] == ["2026-10", "2026-11"]  # earliest due first
