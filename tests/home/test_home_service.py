"""Home queries on SQLite and PostgreSQL: what waits on whom ("all" steps included), whose Home a
request touches, digest status (never / missed / posted), and away mode storage."""

from __future__ import annotations

from datetime import date, timedelta

from bot.digest.models import DigestRun
from bot.home import service
from bot.review import commands as review_commands
from bot.review.ids import Decision, RequestRef
from bot.review.records import Decider, Feedback
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, MANAGER, MANAGER2, MGMT_CHANNEL, NOW, OPERATOR, make_settings
from tests.home.home_seed import add_request


async def test_an_all_step_keeps_waiting_on_the_others_after_one_approval(deps: Deps) -> None:
    both = await add_request(deps, requester=OPERATOR, approvers=[MANAGER, MANAGER2], mode="all")
    later = await add_request(deps, requester=OPERATOR, approvers=[MANAGER], at=NOW + timedelta(hours=1))
    async with deps.sessions.begin() as session:
        await review_commands.decide(
            session,
            ref=RequestRef(both.id, 1, 1),
            decider=Decider(MANAGER, is_manager=True),
            decision=Decision.APPROVE,
            feedback=Feedback(),
            now=NOW,
            seen_step=0,
        )
    async with deps.sessions() as session:
        manager = await service.waiting_page(session, user_id=MANAGER)
        manager2 = await service.waiting_page(session, user_id=MANAGER2)
        mine = await service.mine_page(session, user_id=OPERATOR, limit=1)
        audience = await service.request_audience(session, request_id=both.id)
    assert [i.id for i in manager.items] == [later.id]
    assert [i.id for i in manager2.items] == [both.id]
    assert (len(mine.items), mine.total, mine.more) == (1, 2, 1)
    assert mine.items[0].id == both.id  # oldest first
    assert audience == {OPERATOR, MANAGER, MANAGER2}


async def test_digest_status_never_then_posted_then_missed(deps: Deps) -> None:
    settings = deps.settings
    async with deps.sessions() as session:
        states = await service.digest_states(session, settings=settings, now=NOW)
    assert [(s.kind, s.status, s.period) for s in states] == [
        ("weekly", "never", "2026-W46"),
        ("monthly", "never", "2026-10"),
    ]
    async with deps.sessions.begin() as session:
        session.add(
            DigestRun(
                kind="weekly",
                period="2026-W45",
                channel_id=MGMT_CHANNEL,
                status="posted",
                attempts=1,
                message_ts="1794182405.000100",
                created_at=NOW - timedelta(days=9),
                posted_at=NOW - timedelta(days=9),
            )
        )
    async with deps.sessions() as session:
        weekly = (await service.digest_states(session, settings=settings, now=NOW))[0]
        links = await service.latest_digests(session)
    # The Monday run for W46 left no row: the admin sees it as missed.
    assert (weekly.status, weekly.period) == ("missed", "2026-W46")
    assert [(d.kind, d.period) for d in links] == [("weekly", "2026-W45")]
    async with deps.sessions() as session:
        earlier = (await service.digest_states(session, settings=settings, now=NOW - timedelta(days=4)))[0]
    assert (earlier.status, earlier.period) == ("posted", "2026-W45")


async def test_a_digest_without_channels_is_off_and_has_no_next_run(deps: Deps) -> None:
    settings = make_settings(change=lambda raw: raw["digest"]["monthly"].update(channels=[]))
    async with deps.sessions() as session:
        monthly = (await service.digest_states(session, settings=settings, now=NOW))[1]
    assert (monthly.kind, monthly.status, monthly.channels, monthly.next_at) == ("monthly", "off", (), None)


async def test_away_mode_is_stored_per_user_and_read_by_date(deps: Deps) -> None:
    today = date(2026, 11, 18)
    async with deps.sessions.begin() as session:
        await service.set_away(session, user_id=MANAGER, until=date(2026, 11, 18), today=today, now=NOW)
        await service.set_away(session, user_id=MANAGER2, until=date(2026, 11, 25), today=today, now=NOW)
        await service.set_away(session, user_id=MANAGER2, until=date(2026, 11, 30), today=today, now=NOW)
        await service.set_away(session, user_id=ADMIN, until=None, today=today, now=NOW)
    async with deps.sessions() as session:
        assert await service.away_users(session, on=today) == {MANAGER, MANAGER2}
        assert await service.away_users(session, on=date(2026, 11, 26)) == {MANAGER2}
        assert await service.away_until_by_user(session, on=today) == {
            MANAGER: date(2026, 11, 18),
            MANAGER2: date(2026, 11, 30),
        }
        assert await service.away_until(session, user_id=MANAGER2, today=today) == date(2026, 11, 30)
        assert await service.away_until(session, user_id=MANAGER, today=date(2026, 11, 19)) is None
        assert await service.away_until(session, user_id=ADMIN, today=today) is None
