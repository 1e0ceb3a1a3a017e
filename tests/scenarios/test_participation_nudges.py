"""Kind nudges end to end: a silent manager gets one DM with last week's wins in working hours, once per
period across runs and replicas, never on a Japanese holiday, never while away; "Remind me next week"
and the App Home's switch through signed clicks."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select, update

from bot.app import build_deps
from bot.away.commands import set_away
from bot.clock import FixedClock
from bot.config import Settings
from bot.db import make_engine
from bot.participation import commands
from bot.participation.delivery import owe
from bot.participation.jobs import register_jobs, run_nudges
from bot.participation.models import ParticipationNudge, ParticipationPrefs
from bot.runtime.deps import Deps
from bot.slack.client import build_web_client
from bot.slack.models import OutboxItem
from tests.conftest import BOT_TOKEN, GROUP_MEMBER, MANAGER, MANAGER2, MGMT_CHANNEL, OPERATOR
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import home_envelope, open_home, texts
from tests.scenarios.digest_seed import add_review, add_win, jst
from tests.scenarios.participation_seed import envelope, participation_settings, reaction

#: Wednesday 2026-11-18 10:00 in Tokyo.
WEDNESDAY = jst(2026, 11, 18, 10)


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    # The reminders' calendar here ignores public holidays: a nudge still never lands on one.
    return participation_settings(db_url, fake_slack.api_url, working_hours={"japanese_holidays": False})


async def seed(deps: Deps, sender: SlackSender) -> None:
    """MANAGER reacted yesterday; MANAGER2 last decided a review a month ago; the group's member is away.
    Two wins were shared last week (W46), one the week before."""
    async with deps.sessions.begin() as session:
        await add_review(
            session,
            requester=OPERATOR,
            created=jst(2026, 10, 19, 10),
            decided=jst(2026, 10, 20, 10),
            decider=MANAGER2,
        )
        await add_win(
            session,
            what="採用説明会の申込が 40 件",
            by=OPERATOR,
            at=jst(2026, 11, 10, 9),
            ts="1762700000.000100",
        )
        await add_win(
            session, what="リールが 1 万回再生", by=OPERATOR, at=jst(2026, 11, 12, 9), ts="1762800000.000100"
        )
        await add_win(
            session, what="先々週の成果", by=OPERATOR, at=jst(2026, 11, 3, 9), ts="1762100000.000100"
        )
        await set_away(
            session,
            user_id=GROUP_MEMBER,
            until=jst(2026, 11, 30, 12).date(),
            today=WEDNESDAY.date(),
            now=WEDNESDAY,
        )
    at = jst(2026, 11, 17, 15)
    inner = reaction(MANAGER, channel=MGMT_CHANNEL, ts="1763300000.000100", at=at)
    assert (await sender.event(envelope(inner, event_id="Ev0NUDGE01", at=at))).status == 200
    assert await deps.inflight.drain(10)


def build_scheduler_stub() -> AsyncIOScheduler:
    return AsyncIOScheduler()


def dms(fake_slack: FakeSlack, user: str) -> list[dict[str, Any]]:
    """The nudges the user's DM holds (posted to the DM channel ``conversations.open`` gave)."""
    return fake_slack.messages("D" + user[1:])


async def test_a_silent_manager_is_nudged_once_per_period_and_not_when_away(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    await seed(deps, sender)
    clock.set(WEDNESDAY)
    # Two replicas' runs at the same moment: one DM.
    first, second = await asyncio.gather(run_nudges(deps), run_nudges(deps))
    assert sorted(first.sent + second.sent) == [MANAGER2]
    [dm] = dms(fake_slack, MANAGER2)
    assert dms(fake_slack, MANAGER) == [] and dms(fake_slack, GROUP_MEMBER) == []  # took part; away
    body = [b["text"]["text"] for b in dm["blocks"] if b["type"] == "section"]
    assert body[0] == f"<@{MANAGER2}> さん、先週 SNS チームが共有した成果をお届けします。"
    assert body[1].splitlines() == [
        "共有された成果は 2 件です。",
        "• 採用説明会の申込が 40 件",
        "• リールが 1 万回再生",
    ]
    buttons = next(b for b in dm["blocks"] if b["type"] == "actions")["elements"]
    assert [b["text"]["text"] for b in buttons] == ["成果を見る", "来週あらためて"]
    assert buttons[0]["url"] == "https://acme.slack.com/archives/C0DIGEST1/p1762700000000100"

    # Later the same day, next week (a restart in between changes nothing): no second nudge.
    for later in (WEDNESDAY + timedelta(hours=3), jst(2026, 11, 25, 10), jst(2026, 11, 27, 15)):
        clock.set(later)
        assert (await run_nudges(deps)).sent == []
    assert len(dms(fake_slack, MANAGER2)) == 1
    # Once the period is over and they are still silent, the next nudge; by then the manager who
    # reacted on 11/17 has been quiet for two weeks too, and the away one is back.
    clock.set(jst(2026, 12, 2, 10))
    assert sorted((await run_nudges(deps)).sent) == [GROUP_MEMBER, MANAGER, MANAGER2]
    async with deps.sessions() as session:
        slots = (
            await session.scalars(
                select(ParticipationNudge.slot)
                .where(ParticipationNudge.user_id == MANAGER2)
                .order_by(ParticipationNudge.id)
            )
        ).all()
    assert len(slots) == 2 and len(set(slots)) == 2


async def test_never_on_a_japanese_holiday_nor_outside_working_hours(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    await seed(deps, sender)
    # 2026-11-23 (Mon) is Labour Thanksgiving Day; Tuesday 07:00 is before working hours.
    for moment in (jst(2026, 11, 23, 10), jst(2026, 11, 24, 7), jst(2026, 11, 21, 11)):
        clock.set(moment)
        assert (await run_nudges(deps)).skipped == "outside_working_hours"
    assert dms(fake_slack, MANAGER2) == []
    clock.set(jst(2026, 11, 24, 10))
    assert (await run_nudges(deps)).sent == [MANAGER2]


async def test_remind_me_next_week_and_the_home_switch(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    await seed(deps, sender)
    clock.set(WEDNESDAY)
    assert (await run_nudges(deps)).sent == [MANAGER2]
    dm = dms(fake_slack, MANAGER2)[0]
    click = payloads.block_action(
        "participation.snooze",
        next(b for b in dm["blocks"] if b["type"] == "actions")["elements"][1]["value"],
        user_id=MANAGER2,
        channel_id="D0MANAGER2",
        response_url=fake_slack.response_url("snooze"),
    )
    assert (await sender.interactive(click)).status == 200
    answer = (await fake_slack.wait_for("response_url"))[0].params
    assert answer["replace_original"] is True
    assert answer["text"] == "承知しました。11月23日 にあらためてお知らせします。"
    # Monday the 23rd is a holiday; Tuesday brings the reminder they asked for (once).
    clock.set(jst(2026, 11, 24, 10))
    assert (await run_nudges(deps)).sent == [MANAGER2]
    clock.set(jst(2026, 11, 24, 15))
    assert (await run_nudges(deps)).sent == []

    # The Home shows their part and the switch; turning it off stops nudges.
    home = await open_home(sender, fake_slack, MANAGER2)
    shown = texts(home)
    assert "*今月のあなたの参加状況（2026-11）*" in shown
    assert "今月はまだ参加の記録がありません。チームの投稿へのリアクションや返信だけでも十分です。" in shown
    assert "チーム全体: 管理職の参加率 33%（3 名中 1 名）" in shown  # MANAGER reacted on the 17th
    assert "しばらく参加がないときのお知らせ: *オン*" in shown
    off = payloads.block_action(
        "participation.nudges_off",
        "participation.nudges_off",
        user_id=MANAGER2,
        view=home_envelope(fake_slack, MANAGER2),
    )
    assert (await sender.interactive(off)).status == 200
    assert await deps.inflight.drain(10)
    async with deps.sessions() as session:
        prefs = await session.get(ParticipationPrefs, MANAGER2)
    assert prefs is not None and prefs.nudges_off
    clock.set(jst(2026, 12, 9, 10))
    assert MANAGER2 not in (await run_nudges(deps)).sent  # the others, quiet since, are nudged


async def test_a_dm_slack_refuses_is_owed_and_the_sweep_sends_it_once_in_working_hours(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    await seed(deps, sender)
    clock.set(jst(2026, 11, 18, 17, 58))
    fake_slack.fail("chat.postMessage", error="internal_error", times=None)
    report = await run_nudges(deps)
    assert report.sent == [] and report.failed == [MANAGER2]
    assert dms(fake_slack, MANAGER2) == []
    fake_slack.reset()
    # The claim holds: the next run claims nothing again; the DM is the outbox's.
    clock.set(jst(2026, 11, 18, 17, 59))
    assert (await run_nudges(deps)).sent == []
    # Slack is back after closing time: the sweep waits for the next opening, then sends once.
    clock.set(jst(2026, 11, 18, 20))
    assert (await deps.outbox.sweep()).delivered == []
    assert dms(fake_slack, MANAGER2) == []
    clock.set(jst(2026, 11, 19, 9, 30))
    assert (await deps.outbox.sweep()).delivered == [f"nudge:{MANAGER2}:w{_window()}"]
    clock.set(jst(2026, 11, 19, 11))
    await deps.outbox.sweep()
    await run_nudges(deps)
    [dm] = dms(fake_slack, MANAGER2)
    assert "採用説明会の申込が 40 件" in str(dm["blocks"])
    async with deps.sessions() as session:
        [row] = (
            await session.scalars(select(ParticipationNudge).where(ParticipationNudge.user_id == MANAGER2))
        ).all()
    assert row.status == "sent"


def _window() -> int:
    from bot.participation.policy import window_index

    return window_index(WEDNESDAY.date(), weeks=2)


async def test_a_process_dying_between_the_claim_and_the_dm_loses_nothing_and_doubles_nothing(
    deps: Deps, db_url: str, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    """The claim and the owed DM commit together; the process dies before sending (its delivery never
    runs). Another replica's sweep sends it once; nudge runs after it claim nothing again."""
    await seed(deps, sender)
    clock.set(WEDNESDAY)
    slot = f"w{_window()}"
    async with deps.sessions.begin() as session:  # what run_nudges commits before it delivers
        assert await commands.claim_nudge(session, user_id=MANAGER2, slot=slot, now=WEDNESDAY)
        await owe(session, user_id=MANAGER2, slot=slot, week="2026-W46", now=WEDNESDAY)
    other = build_deps(
        deps.settings,
        clock=clock,
        engine=make_engine(db_url),
        slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
    )
    try:
        register_jobs(build_scheduler_stub(), other)  # the restarted replica registers the delivery
        assert (await run_nudges(other)).sent == []  # claimed: not again
        clock.advance(minutes=4)
        assert (await other.outbox.sweep()).delivered == [f"nudge:{MANAGER2}:{slot}"]
        # Slack answered but the "done" mark was lost: a second sweep looks in the DM, finds it.
        async with other.sessions.begin() as session:
            await session.execute(update(OutboxItem).values(status="pending", next_attempt_at=clock.now()))
            await session.execute(update(ParticipationNudge).values(status="claimed"))
        await other.outbox.sweep()
    finally:
        await other.inflight.drain(10)
        await other.engine.dispose()
    assert len(dms(fake_slack, MANAGER2)) == 1
    assert dms(fake_slack, MANAGER) == []


@pytest.mark.parametrize("change", ["reacted", "away", "off"])
async def test_an_owed_nudge_is_dropped_when_the_manager_took_part_went_away_or_turned_it_off(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender, change: str
) -> None:
    """Slack failed the DM; before the sweep retries, the manager reacted to a digest (a signed event),
    went away, or turned nudges off: the retry sends nothing."""
    await seed(deps, sender)
    clock.set(WEDNESDAY)
    fake_slack.fail("chat.postMessage", error="internal_error", times=None)
    assert (await run_nudges(deps)).failed == [MANAGER2]
    fake_slack.reset()
    later = WEDNESDAY + timedelta(minutes=30)
    if change == "reacted":
        inner = reaction(MANAGER2, channel=MGMT_CHANNEL, ts="1763300000.000100", at=later)
        assert (await sender.event(envelope(inner, event_id="Ev0LATE01", at=later))).status == 200
        assert await deps.inflight.drain(10)
    else:
        async with deps.sessions.begin() as session:
            if change == "away":
                await set_away(
                    session,
                    user_id=MANAGER2,
                    until=jst(2026, 11, 20, 12).date(),
                    today=later.date(),
                    now=later,
                )
            else:
                await commands.set_nudges(session, user_id=MANAGER2, on=False, now=later)
    clock.set(later + timedelta(minutes=10))
    report = await deps.outbox.sweep()
    assert report.delivered == [f"nudge:{MANAGER2}:w{_window()}"]  # done: nothing left owed
    assert dms(fake_slack, MANAGER2) == []
    assert await deps.inflight.drain(10)  # the "done" marks are written by a background task
    assert await deps.outbox.pending() == []
