"""Participation writes on SQLite and PostgreSQL: marks are idempotent and ordered by event time, the
time to decide starts when the step started waiting, nudge claims are exclusive, the rate is written once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db import make_sessionmaker
from bot.kpi.models import KpiValue
from bot.participation import commands, queries
from bot.participation.ids import MarkKind
from bot.participation.models import ParticipationMark
from bot.participation.policy import Mark
from bot.review.models import ReviewEvent, ReviewRequest
from tests.conftest import make_settings
from tests.scenarios.participation_seed import RATE_KPI

T0 = datetime(2026, 11, 18, 1, tzinfo=UTC)


def _mark(*, removed: bool = False, event_time: int = 100, item: str = "tada") -> Mark:
    return Mark(MarkKind.REACTION, "U1", "C1", "1763300000.000100", item, T0, event_time, removed)


async def test_marks_are_idempotent_and_the_later_event_wins(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await commands.record_mark(session, _mark())
        await commands.record_mark(session, _mark())  # a redelivery
        await commands.record_mark(session, _mark(item="eyes"))
    async with sessions.begin() as session:
        # The removal arrives, then the add it followed arrives late: the removal stands.
        await commands.record_mark(session, _mark(removed=True, event_time=200))
        await commands.record_mark(session, _mark(event_time=150))
    async with sessions() as session:
        rows = (await session.scalars(select(ParticipationMark).order_by(ParticipationMark.item))).all()
        counts = await queries.mark_counts(session, start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))
    assert [(r.item, r.removed, r.event_time) for r in rows] == [("eyes", False, 100), ("tada", True, 200)]
    assert counts.reactions == {"U1": 1}
    async with sessions.begin() as session:
        await commands.record_mark(session, _mark(event_time=300))  # added again later
    async with sessions() as session:
        counts = await queries.mark_counts(session, start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))
    assert counts.reactions == {"U1": 2}


async def test_a_delivery_is_claimed_by_its_event_id_in_the_same_transaction(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        assert await commands.record_mark(session, _mark(), event_id="Ev1", now=T0)
        # The same event_id again (Slack's retry) is dropped, even with a later event time.
        assert not await commands.record_mark(
            session, _mark(removed=True, event_time=900), event_id="Ev1", now=T0
        )
    async with sessions() as session:
        rows = (await session.scalars(select(ParticipationMark))).all()
    assert [(r.removed, r.event_time) for r in rows] == [(False, 100)]


async def test_time_to_decide_starts_when_the_step_started_waiting(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        request = ReviewRequest(
            requester_id="U0OPER", account_key="x", status="approved", created_at=T0, waiting_since=T0
        )
        session.add(request)
        await session.flush()
        for kind, actor, hours in [
            ("requested", "U0OPER", 0),
            ("step_approved", "U1", 2),
            ("commented", "U3", 3),
            ("approved", "U2", 5),
        ]:
            session.add(
                ReviewEvent(
                    request_id=request.id,
                    kind=kind,
                    actor_id=actor,
                    revision=1,
                    created_at=T0 + timedelta(hours=hours),
                )
            )
    async with sessions() as session:
        found = await queries.decisions(session, start=T0, end=T0 + timedelta(days=1))
        commented = await queries.commenters(session, start=T0, end=T0 + timedelta(days=1))
        last = await queries.last_participation(session, users=["U1", "U2", "U3", "U4"])
    waits = sorted((d.actor_id, (d.decided_at - d.waiting_since) / timedelta(hours=1)) for d in found)
    assert waits == [("U1", 2.0), ("U2", 3.0)]  # U2's step waited from U1's approval
    assert commented == ["U3"]
    assert set(last) == {"U1", "U2", "U3"}


async def test_a_nudge_slot_is_claimed_once_and_a_reminder_slot_clears_the_date(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        assert await commands.claim_nudge(session, user_id="U1", slot="w5", now=T0)
        assert not await commands.claim_nudge(session, user_id="U1", slot="w5", now=T0)
        await commands.nudge_sent(session, user_id="U1", slot="w5", now=T0)
        assert not await commands.claim_nudge(session, user_id="U1", slot="w5", now=T0)
        await commands.remind_on(session, user_id="U1", day=date(2026, 11, 23), now=T0)
        assert await commands.claim_nudge(session, user_id="U1", slot="r2026-11-23", now=T0)
    async with sessions() as session:
        prefs = await queries.prefs_of(session, users=["U1"])
        assert prefs["U1"].remind_on is None  # the reminder was used
        assert (await queries.last_nudges(session, users=["U1"]))["U1"] == T0


async def test_the_rate_is_written_as_the_kpis_value_only_when_it_changes(engine: AsyncEngine) -> None:
    settings: Settings = make_settings(change=lambda raw: raw["kpis"].append(dict(RATE_KPI)))
    kpis = tuple(k for k in settings.kpis if k.derive == "manager_participation")
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        assert await commands.store_rate(session, kpis=kpis, month="2026-11", value=50.0, now=T0) == 1
        assert await commands.store_rate(session, kpis=kpis, month="2026-11", value=50.0, now=T0) == 0
        assert await commands.store_rate(session, kpis=kpis, month="2026-11", value=None, now=T0) == 0
        assert await commands.store_rate(session, kpis=kpis, month="2026-11", value=75.0, now=T0) == 1
    async with sessions() as session:
        values = (await session.scalars(select(KpiValue.value).order_by(KpiValue.id))).all()
    assert values == [50.0, 75.0]
