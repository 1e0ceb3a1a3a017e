"""Claiming a manager's welcome on both stores: once per manager, with its DM owed in the same
transaction."""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime.deps import Deps
from bot.slack.models import OutboxItem
from bot.welcome.commands import claim_welcome, was_welcomed
from bot.welcome.ids import Via
from tests.conftest import MANAGER, NOW


async def test_a_welcome_is_claimed_once_and_its_dm_owed_once(deps: Deps) -> None:
    async with deps.sessions.begin() as session:
        first = await claim_welcome(session, user_id=MANAGER, via=Via.HOME, now=NOW)
    async with deps.sessions.begin() as session:
        second = await claim_welcome(session, user_id=MANAGER, via=Via.REVIEW, now=NOW)
        assert await was_welcomed(session, user_id=MANAGER)
    assert first is not None and first.payload["user_id"] == MANAGER
    assert second is None
    async with deps.sessions() as session:
        owed = (await session.scalars(select(OutboxItem))).all()
    assert [(o.kind, o.key) for o in owed] == [("welcome.dm", f"welcome.dm:{MANAGER}")]
