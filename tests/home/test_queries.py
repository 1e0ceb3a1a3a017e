"""Home queries on SQLite and PostgreSQL: what waits on whom ("all" steps included), whose Home a
request touches, and digest status (never / missed / posted); away mode's storage: tests/away."""

from __future__ import annotations

from datetime import timedelta

from bot.digest.models import DigestRun
from bot.home import queries
from bot.review import commands as review_commands
from bot.review.ids import Decision, RequestRef
from bot.review.records import Decider, Feedback
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, MANAGER2, MGMT_CHANNEL, NOW, OPERATOR, make_settings
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
        manager = await queries.waiting_page(session, user_id=MANAGER)
        manager2 = await queries.waiting_page(session, user_id=MANAGER2)
        mine = await queries.mine_page(session, user_id=OPERATOR, limit=1)
        audience = await queries.request_audience(session, request_id=both.id)
    assert [i.id for i in manager.items] == [later.id]
    assert [i.id for i in manager2.items] == [both.id]
    assert (len(mine.items), mine.total, mine.more) == (1, 2, 1)
    assert mine.items[0].id == both.id  # oldest first
    assert audience == {OPERATOR, MANAGER, MANAGER2}


async def test_digest_status_never_then_posted_then_missed(deps: Deps) -> None:
    settings = deps.settings
    async with deps.sessions() as session:
        states = await queries.digest_states(session, settings=settings, now=NOW)
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
        weekly = (await queries.digest_states(session, settings=settings, now=NOW))[0]
        links = await queries.latest_digests(session)
    # The Monday run for W46 left no row: the admin sees it as missed.
    assert (weekly.status, weekly.period) == ("missed", "2026-W46")
    assert [(d.kind, d.period) for d in links] == [("weekly", "2026-W45")]
    async with deps.sessions() as session:
        earlier = (await queries.digest_states(session, settings=settings, now=NOW - timedelta(days=4)))[0]
    assert (earlier.status, earlier.period) == ("posted", "2026-W45")


async def test_a_digest_without_channels_is_off_and_has_no_next_run(deps: Deps) -> None:
    settings = make_settings(change=lambda raw: raw["digest"]["monthly"].update(channels=[]))
    async with deps.sessions() as session:
        monthly = (await queries.digest_states(session, settings=settings, now=NOW))[1]
    assert (monthly.kind, monthly.status, monthly.channels, monthly.next_at) == ("monthly", "off", (), None)
