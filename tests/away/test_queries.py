"""Away mode's storage on SQLite and PostgreSQL: away days and delegates set per user (an upsert)
and read by date by review reminders, the request message, who may decide, and the Home."""

from __future__ import annotations

from datetime import date

from bot.away import commands, queries
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, GROUP_MEMBER, MANAGER, MANAGER2, NOW


async def test_away_mode_is_stored_per_user_and_read_by_date(deps: Deps) -> None:
    today = date(2026, 11, 18)
    async with deps.sessions.begin() as session:
        await commands.set_away(session, user_id=MANAGER, until=date(2026, 11, 18), today=today, now=NOW)
        await commands.set_away(session, user_id=MANAGER2, until=date(2026, 11, 25), today=today, now=NOW)
        await commands.set_away(session, user_id=MANAGER2, until=date(2026, 11, 30), today=today, now=NOW)
        await commands.set_away(session, user_id=ADMIN, until=None, today=today, now=NOW)
    async with deps.sessions() as session:
        assert await queries.away_users(session, on=today) == {MANAGER, MANAGER2}
        assert await queries.away_users(session, on=date(2026, 11, 26)) == {MANAGER2}
        assert await queries.away_until_by_user(session, on=today) == {
            MANAGER: date(2026, 11, 18),
            MANAGER2: date(2026, 11, 30),
        }
        assert await queries.away_until(session, user_id=MANAGER2, today=today) == date(2026, 11, 30)
        assert await queries.away_until(session, user_id=MANAGER, today=date(2026, 11, 19)) is None
        assert await queries.away_until(session, user_id=ADMIN, today=today) is None


async def test_delegates_count_only_while_their_delegator_is_away(deps: Deps) -> None:
    today = date(2026, 11, 18)
    async with deps.sessions.begin() as session:
        await commands.set_delegate(session, user_id=MANAGER, delegate=MANAGER2, now=NOW)
        await commands.set_away(session, user_id=MANAGER, until=date(2026, 11, 20), today=today, now=NOW)
        await commands.set_delegate(session, user_id=ADMIN, delegate=MANAGER2, now=NOW)  # not away
        await commands.set_away(session, user_id=GROUP_MEMBER, until=today, today=today, now=NOW)
    async with deps.sessions() as session:
        assert await queries.delegate_of(session, user_id=MANAGER) == MANAGER2
        assert await queries.delegate_of(session, user_id=ADMIN) == MANAGER2
        assert await queries.delegate_of(session, user_id=GROUP_MEMBER) is None
        assert await queries.delegates_while_away(session, on=today) == {MANAGER: MANAGER2}
        assert await queries.delegates_while_away(session, on=date(2026, 11, 21)) == {}
        assert await queries.delegators_of(session, delegate=MANAGER2, on=today) == frozenset({MANAGER})
        assert await queries.delegators_of(session, delegate=MANAGER, on=today) == frozenset()
    async with deps.sessions.begin() as session:
        await commands.set_delegate(session, user_id=MANAGER, delegate=None, now=NOW)
    async with deps.sessions() as session:
        # Clearing the delegate keeps the away day.
        assert await queries.delegate_of(session, user_id=MANAGER) is None
        assert await queries.away_until(session, user_id=MANAGER, today=today) == date(2026, 11, 20)
