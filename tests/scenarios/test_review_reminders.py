"""Reminder sweep with an injected clock: working hours only, across a weekend and a Japanese holiday,
growing intervals, one escalation, and never a duplicate (repeated or concurrent sweeps)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from bot.app import build_scheduler
from bot.clock import FixedClock
from bot.config import Settings
from bot.review import commands, jobs, messages, queries
from bot.review.ids import Decision
from bot.review.models import ReviewEvent
from bot.review.policy import ResolvedStep
from bot.review.records import Decider, Feedback, RequestSnapshot
from bot.runtime.deps import Deps
from tests.conftest import MANAGER, MANAGER2, MGMT_CHANNEL, OPERATOR, REVIEW_CHANNEL, make_settings
from tests.fakes.slack import FakeSlack

TOKYO = ZoneInfo("Asia/Tokyo")


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO).astimezone(UTC)


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    def change(raw: dict[str, Any]) -> None:
        raw["review"].update(remind_after_hours=4, escalate_after_hours=16, reminder_backoff=2.0)

    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=change)


async def seed(deps: Deps, *, planned: datetime) -> RequestSnapshot:
    now = deps.clock.now()
    async with deps.sessions.begin() as session:
        request = await commands.create_request(
            session,
            requester_id=OPERATOR,
            account_key="x_corp",
            text="年末のご挨拶",
            planned_at=planned,
            link_url=None,
            feedback_wanted="",
            chain=(ResolvedStep((MANAGER, MANAGER2), "any"),),
            now=now,
        )
    posted = await deps.slack.chat_postMessage(
        channel=REVIEW_CHANNEL,
        **messages.build_review_message(request, settings=deps.settings, t=deps.t).kwargs(),
    )
    async with deps.sessions.begin() as session:
        await commands.attach_message(
            session, request_id=request.id, channel_id=REVIEW_CHANNEL, message_ts=posted["ts"]
        )
        return await queries.get_request(session, request_id=request.id)


async def sweep_at(deps: Deps, clock: FixedClock, moment: datetime) -> jobs.SweepReport:
    clock.set(moment)
    return await jobs.run_sweep(deps)


def replies(fake_slack: FakeSlack, ts: str) -> list[str]:
    return [
        m["blocks"][0]["text"]["text"]
        for m in fake_slack.messages(REVIEW_CHANNEL)
        if m.get("thread_ts") == ts and m["ts"] != ts
    ]


async def test_reminders_wait_for_working_hours_across_a_weekend_and_a_holiday(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    clock.set(jst(2026, 11, 20, 16, 0))  # Friday; Monday 11/23 is 勤労感謝の日
    request = await seed(deps, planned=jst(2026, 12, 4, 12, 0))
    assert request.message_ts is not None
    quiet = [
        jst(2026, 11, 20, 16, 0),
        jst(2026, 11, 20, 23, 0),
        jst(2026, 11, 21, 12, 0),
        jst(2026, 11, 22, 12, 0),
        jst(2026, 11, 23, 12, 0),
        jst(2026, 11, 24, 10, 59),
    ]
    for moment in quiet:
        assert await sweep_at(deps, clock, moment) == jobs.SweepReport(), moment
    assert replies(fake_slack, request.message_ts) == []

    report = await sweep_at(deps, clock, jst(2026, 11, 24, 11, 0))  # 2 h on Friday + 2 h on Tuesday
    assert report == jobs.SweepReport(reminded=[request.id])
    first = replies(fake_slack, request.message_ts)
    assert len(first) == 1
    assert first[0].startswith(":bell: <@U0MANAGER1>、<@U0MANAGER2> さん、この投稿案が <!date^")
    assert first[0].endswith("リマインド 1 回目です。")

    # The same sweep again (a restart, a second replica) sends nothing new; neither do two at once.
    assert await sweep_at(deps, clock, jst(2026, 11, 24, 11, 0)) == jobs.SweepReport()
    assert await asyncio.gather(jobs.run_sweep(deps), jobs.run_sweep(deps)) == [
        jobs.SweepReport(),
        jobs.SweepReport(),
    ]
    # The second reminder waits twice as long: 8 working hours → Wednesday 10:00.
    assert await sweep_at(deps, clock, jst(2026, 11, 25, 9, 59)) == jobs.SweepReport()
    two = await asyncio.gather(sweep_at(deps, clock, jst(2026, 11, 25, 10, 0)), jobs.run_sweep(deps))
    assert sorted(r.reminded for r in two) == [[], [request.id]]
    assert len(replies(fake_slack, request.message_ts)) == 2

    # After 16 working hours (Wednesday 14:00) the request is escalated, once.
    assert await sweep_at(deps, clock, jst(2026, 11, 25, 13, 59)) == jobs.SweepReport()
    assert await sweep_at(deps, clock, jst(2026, 11, 25, 14, 0)) == jobs.SweepReport(escalated=[request.id])
    escalations = fake_slack.messages(MGMT_CHANNEL)
    assert len(escalations) == 1
    assert escalations[0]["blocks"][0]["text"]["text"].startswith(
        ":rotating_light: レビューが滞っています: <@U0ALICE01> さんの X 公式 (@example_corp) の投稿案が"
    )
    assert await sweep_at(deps, clock, jst(2026, 11, 25, 17, 0)) == jobs.SweepReport()

    # A decision stops everything.
    async with deps.sessions.begin() as session:
        await commands.decide(
            session,
            ref=(await queries.get_request(session, request_id=request.id)).ref,
            decider=Decider(MANAGER, is_manager=True),
            decision=Decision.APPROVE,
            feedback=Feedback(),
            now=deps.clock.now(),
            seen_step=0,
        )
    assert await sweep_at(deps, clock, jst(2026, 12, 10, 10, 0)) == jobs.SweepReport()
    async with deps.sessions() as session:
        kinds = (await session.scalars(select(ReviewEvent.kind).order_by(ReviewEvent.id))).all()
    assert list(kinds) == ["requested", "reminded", "reminded", "escalated", "approved"]
    assert fake_slack.invalid_payloads == []


async def test_a_near_due_time_escalates_early(deps: Deps, clock: FixedClock, fake_slack: FakeSlack) -> None:
    clock.set(jst(2026, 11, 24, 9, 0))  # Tuesday
    request = await seed(deps, planned=jst(2026, 11, 25, 12, 0))  # due Wednesday noon
    # 4 working hours before the due time is Tuesday 17:00 (1 h Tue + 3 h Wed); the reminder comes first.
    assert await sweep_at(deps, clock, jst(2026, 11, 24, 13, 0)) == jobs.SweepReport(reminded=[request.id])
    assert await sweep_at(deps, clock, jst(2026, 11, 24, 16, 59)) == jobs.SweepReport()
    assert await sweep_at(deps, clock, jst(2026, 11, 24, 17, 0)) == jobs.SweepReport(escalated=[request.id])
    text = json.dumps(fake_slack.messages(MGMT_CHANNEL)[0]["blocks"], ensure_ascii=False)
    assert "https://slack.com/archives/C0REVIEW01/p" in text


async def test_a_failed_send_is_logged_and_not_repeated(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    clock.set(jst(2026, 11, 24, 9, 0))
    request = await seed(deps, planned=jst(2026, 12, 4, 12, 0))
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    report = await sweep_at(deps, clock, jst(2026, 11, 24, 13, 0))
    assert report == jobs.SweepReport(failed=[request.id])
    assert "reminder sweep failed for this request" in caplog.text
    assert await sweep_at(deps, clock, jst(2026, 11, 24, 13, 5)) == jobs.SweepReport()


def test_the_sweep_is_scheduled_on_the_configured_cron(deps: Deps) -> None:
    scheduler: AsyncIOScheduler = build_scheduler(deps)
    job = scheduler.get_job(jobs.JOB_ID)
    assert job is not None
    fire = job.trigger.get_next_fire_time(None, jst(2026, 11, 24, 9, 1))
    assert fire == datetime(2026, 11, 24, 9, 10, tzinfo=TOKYO)


async def test_an_away_manager_is_skipped_and_the_rest_of_the_step_is_reminded(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    from datetime import date

    from bot.away.commands import set_away

    clock.set(jst(2026, 11, 24, 9, 0))
    request = await seed(deps, planned=jst(2026, 12, 4, 12, 0))
    async with deps.sessions.begin() as session:
        await set_away(
            session, user_id=MANAGER, until=date(2026, 11, 27), today=date(2026, 11, 24), now=clock.now()
        )

    report = await sweep_at(deps, clock, jst(2026, 11, 24, 13, 0))
    assert report == jobs.SweepReport(reminded=[request.id])
    (reply,) = [
        m
        for m in fake_slack.messages(REVIEW_CHANNEL)
        if m.get("thread_ts") == request.message_ts and m["ts"] != request.message_ts
    ]
    assert reply["blocks"][0]["text"]["text"].startswith(":bell: <@U0MANAGER2> さん、")
    assert (
        reply["blocks"][1]["elements"][0]["text"]
        == "不在のためリマインドしていない方: <@U0MANAGER1> さん（11/27 まで不在）"
    )


async def test_when_the_whole_step_is_away_the_admins_are_reminded(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    from datetime import date

    from bot.away.commands import set_away
    from tests.conftest import ADMIN

    clock.set(jst(2026, 11, 24, 9, 0))
    request = await seed(deps, planned=jst(2026, 12, 4, 12, 0))
    async with deps.sessions.begin() as session:
        for manager in (MANAGER, MANAGER2):
            await set_away(
                session, user_id=manager, until=date(2026, 11, 30), today=date(2026, 11, 24), now=clock.now()
            )

    await sweep_at(deps, clock, jst(2026, 11, 24, 13, 0))
    (reply,) = [
        m
        for m in fake_slack.messages(REVIEW_CHANNEL)
        if m.get("thread_ts") == request.message_ts and m["ts"] != request.message_ts
    ]
    assert reply["blocks"][0]["text"]["text"].startswith(f":bell: <@{ADMIN}> さん、")


async def test_when_the_whole_step_is_away_the_delegate_they_named_is_reminded(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    """Issue 13 item 4: the delegate decides for the away approver, so the reminder goes to them (on main
    it went to the admins)."""
    from datetime import date

    from bot.away.commands import set_away, set_delegate
    from tests.conftest import GROUP_MEMBER

    clock.set(jst(2026, 11, 24, 9, 0))
    request = await seed(deps, planned=jst(2026, 12, 4, 12, 0))
    async with deps.sessions.begin() as session:
        for manager in (MANAGER, MANAGER2):
            await set_away(
                session, user_id=manager, until=date(2026, 11, 30), today=date(2026, 11, 24), now=clock.now()
            )
        await set_delegate(session, user_id=MANAGER, delegate=GROUP_MEMBER, now=clock.now())

    await sweep_at(deps, clock, jst(2026, 11, 24, 13, 0))
    (reply,) = [
        m
        for m in fake_slack.messages(REVIEW_CHANNEL)
        if m.get("thread_ts") == request.message_ts and m["ts"] != request.message_ts
    ]
    assert reply["blocks"][0]["text"]["text"].startswith(f":bell: <@{GROUP_MEMBER}> さん、")
    assert reply["blocks"][1]["elements"][0]["text"] == (
        f"不在のためリマインドしていない方: <@{MANAGER}> さん（11/30 まで不在、代理: <@{GROUP_MEMBER}> さん）、"
        f"<@{MANAGER2}> さん（11/30 まで不在）"
    )
