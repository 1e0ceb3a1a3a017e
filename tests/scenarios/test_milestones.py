"""The bot celebrates by itself: a record month and a three-month streak are detected from the store,
announced once each in the team channel (across a restart and two replicas), shown in the weekly
digest's "🎉 達成したこと" section, and their button opens the KPI for whoever clicks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.app import build_deps
from bot.clock import FixedClock
from bot.config import Settings
from bot.db import make_engine
from bot.digest.jobs import run_digest_job
from bot.kpi.ids import ActionId as KpiActionId
from bot.kpi.records import PostRecord
from bot.kpi.values import record_followers, record_value, upsert_posts
from bot.metrics import Metrics
from bot.milestones.commands import record
from bot.milestones.ids import MilestoneKind
from bot.milestones.jobs import run_detection
from bot.milestones.models import Milestone
from bot.milestones.records import Found
from bot.runtime.deps import Deps
from bot.slack.client import build_web_client
from tests.conftest import BOT_TOKEN, MANAGER, MGMT_CHANNEL, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.scenarios.digest_seed import SEEDED_AT, jst

TEAM_CHANNEL = "C0TEAMROOM"


def _celebrate(raw: dict[str, Any]) -> None:
    raw["milestones"] = {"announce_channel": TEAM_CHANNEL, "streak_months": 3}


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=_celebrate)


@pytest.fixture(autouse=True)
async def _owed_work_finished(deps: Deps) -> AsyncIterator[None]:
    """Delivered outbox items are marked done by a background write: let it finish before the store
    closes (else it would open a connection on a disposed engine)."""
    yield
    await deps.inflight.drain(10)


async def seed_record_streak(deps: Deps) -> None:
    """Recruiting entries (target 30): 20, 31, 32, then 35 in October: October is the best month ever
    and the third month in a row on target."""
    async with deps.sessions.begin() as session:
        for month, value in (("2026-07", 20), ("2026-08", 31), ("2026-09", 32), ("2026-10", 35)):
            await record_value(
                session,
                kpi="recruiting_entries",
                month=month,
                day=None,
                value=value,
                source="slack",
                user_id=MANAGER,
                now=SEEDED_AT,
            )


def announcements(fake_slack: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in fake_slack.messages(TEAM_CHANNEL) if "thread_ts" not in m]


async def stored(deps: Deps) -> list[tuple[str, str, str, str | None]]:
    async with deps.sessions() as session:
        rows = (await session.scalars(select(Milestone).order_by(Milestone.kind))).all()
    return [(r.kind, r.subject, r.mark, r.message_ts) for r in rows]


def other_process(deps: Deps, db_url: str, fake_slack: FakeSlack, clock: FixedClock) -> Deps:
    return build_deps(
        deps.settings,
        clock=clock,
        engine=make_engine(db_url),
        slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
    )


async def test_a_record_and_a_streak_are_announced_once_across_a_restart(
    deps: Deps, db_url: str, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_record_streak(deps)
    # Wednesday 2026-11-04 10:00: October has settled (two days after it ended).
    clock.set(jst(2026, 11, 4, 10))
    new = await run_detection(deps)
    assert sorted((m.found.kind, m.found.mark) for m in new) == [
        ("kpi_record", "2026-10"),
        ("target_streak", "2026-10:3"),
    ]
    posted = announcements(fake_slack)
    assert len(posted) == 2
    text = "\n".join(m["text"] for m in posted)
    assert "採用エントリー数" in text and "過去最高" in text and "3 か月連続" in text
    # Each announcement carries the KPI's "why" and the button that opens /sns-kpi KEY.
    buttons = [e for m in posted for b in m["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {(e["action_id"], e["value"]) for e in buttons} == {
        (KpiActionId.OPEN_DETAIL, "recruiting_entries")
    }
    assert all(any("SNS 経由の応募" in str(b) for b in m["blocks"]) for m in posted)
    rows = await stored(deps)
    assert [r[:3] for r in rows] == [
        ("kpi_record", "recruiting_entries", "2026-10"),
        ("target_streak", "recruiting_entries", "2026-10:3"),
    ]
    assert all(r[3] for r in rows)  # where each went is recorded

    # An hour later, and after a restart (a new process on the same store): nothing new.
    clock.advance(hours=1)
    assert await run_detection(deps) == []
    restarted = other_process(deps, db_url, fake_slack, clock)
    try:
        assert await run_detection(restarted) == []
        clock.advance(days=1)
        assert await run_detection(restarted) == []
    finally:
        await restarted.inflight.drain(10)
        await restarted.engine.dispose()
    assert len(announcements(fake_slack)) == 2
    assert len(await stored(deps)) == 2


async def test_two_replicas_detecting_at_once_announce_once(
    deps: Deps, db_url: str, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_record_streak(deps)
    clock.set(jst(2026, 11, 4, 10))
    other = other_process(deps, db_url, fake_slack, clock)
    try:
        results = await asyncio.gather(run_detection(deps), run_detection(other), run_detection(deps))
    finally:
        await other.inflight.drain(10)
        await other.engine.dispose()
    assert sum(len(r) for r in results) == 2
    assert len(announcements(fake_slack)) == 2


async def test_nothing_is_detected_outside_working_hours_and_nothing_posted_without_a_channel(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_record_streak(deps)
    clock.set(jst(2026, 11, 3, 10))  # Culture Day, a public holiday
    assert await run_detection(deps) == []
    clock.set(jst(2026, 11, 4, 7))  # before opening
    assert await run_detection(deps) == []
    assert await stored(deps) == []
    quiet = replace(
        deps, settings=replace(deps.settings, milestones=replace(deps.settings.milestones, announce=False))
    )
    clock.set(jst(2026, 11, 4, 10))
    assert len(await run_detection(quiet)) == 2  # recorded for the digest...
    assert fake_slack.calls_to("chat.postMessage") == []  # ...but not announced
    assert [r[3] for r in await stored(deps)] == [None, None]


async def test_round_numbers_and_the_quarters_best_post(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    async with deps.sessions.begin() as session:
        await record_followers(
            session, account_key="x_corp", followers=960, source="api", now=jst(2026, 12, 28, 6)
        )
        await record_followers(
            session, account_key="x_corp", followers=1012, source="api", now=jst(2027, 1, 5, 6)
        )
        posts = [
            PostRecord(
                "x",
                str(n),
                jst(2026, 10, 1 + n, 12),
                url=f"https://x.com/example_corp/status/{n}",
                text=f"投稿 {n} <!channel>",
                account_key="x_corp",
                metrics=Metrics(impressions=1000, engagements=10 * n),
            )
            for n in range(1, 6)
        ]
        posts.append(  # a very high rate, but under the impressions floor: not the best post
            PostRecord(
                "x",
                "99",
                jst(2026, 11, 1, 12),
                account_key="x_corp",
                metrics=Metrics(impressions=50, engagements=40),
            )
        )
        await upsert_posts(session, posts, source="import", now=SEEDED_AT)
    clock.set(jst(2027, 1, 6, 10))  # Wednesday: Q4 2026 has settled
    new = await run_detection(deps)
    marks = sorted((m.found.kind, m.found.subject, m.found.mark) for m in new)
    # The fiscal year starts in April (the default): October to December is fiscal 2026's Q3.
    assert marks == [("best_post", "team", "q2026-10"), ("followers", "x_corp", "1000")]
    best = next(m.found for m in new if m.found.kind == "best_post")
    assert best.detail["url"] == "https://x.com/example_corp/status/5"
    text = "\n".join(m["text"] for m in announcements(fake_slack))
    assert "2026年度 第3四半期（10〜12月）のベスト投稿" in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "1,000 人" in text


async def _seed_quarter_posts(deps: Deps, *, first: date) -> None:
    """Five posts from ``first`` on, the fifth the best by engagement rate."""
    async with deps.sessions.begin() as session:
        posts = [
            PostRecord(
                "x",
                f"{first:%Y%m}{n}",
                jst(first.year, first.month, 1 + n, 12),
                url=f"https://x.com/example_corp/status/{first:%Y%m}{n}",
                text=f"投稿 {n}",
                account_key="x_corp",
                metrics=Metrics(impressions=1000, engagements=10 * n),
            )
            for n in range(1, 6)
        ]
        await upsert_posts(session, posts, source="import", now=SEEDED_AT)


async def test_a_quarter_announced_under_the_old_calendar_mark_is_not_announced_again(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    """The first release recorded October to December 2026 as ``2026-Q4`` (a calendar quarter); the
    same dates as fiscal 2026's Q3 are the same milestone: nothing new, nothing posted. The next
    quarter (January to March, fiscal Q4) is judged and announced under the new mark."""
    await _seed_quarter_posts(deps, first=date(2026, 10, 1))
    async with deps.sessions.begin() as session:
        legacy = Found(MilestoneKind.BEST_POST, "team", "2026-Q4", value=5.0, detail={"account": "x_corp"})
        assert await record(session, found=legacy, now=jst(2027, 1, 5, 10)) is not None
    clock.set(jst(2027, 1, 6, 10))
    assert [m for m in await run_detection(deps) if m.found.kind == "best_post"] == []
    assert announcements(fake_slack) == []

    await _seed_quarter_posts(deps, first=date(2027, 1, 1))
    clock.set(jst(2027, 4, 7, 10))
    new = [m.found for m in await run_detection(deps) if m.found.kind == "best_post"]
    assert [f.mark for f in new] == ["q2027-01"]
    assert "2026年度 第4四半期（1〜3月）のベスト投稿" in "\n".join(
        m["text"] for m in announcements(fake_slack)
    )


async def test_a_fiscal_year_starting_in_may_judges_may_to_july(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    """With fiscal quarters that are no calendar quarter (a year from May), the quarter is judged in
    the month after it, by its own dates; an old calendar mark of overlapping months does not stop it."""
    deps = replace(deps, settings=replace(deps.settings, fiscal_year_start=5))
    await _seed_quarter_posts(deps, first=date(2026, 5, 1))
    async with deps.sessions.begin() as session:
        legacy = Found(MilestoneKind.BEST_POST, "team", "2026-Q2", value=5.0, detail={"account": "x_corp"})
        await record(session, found=legacy, now=jst(2026, 7, 3, 10))
    clock.set(jst(2026, 7, 15, 10))  # July: May–July is not over yet
    assert [m for m in await run_detection(deps) if m.found.kind == "best_post"] == []
    clock.set(jst(2026, 8, 5, 10))
    new = [m.found for m in await run_detection(deps) if m.found.kind == "best_post"]
    assert [f.mark for f in new] == ["q2026-05"]
    assert new[0].detail["url"] == "https://x.com/example_corp/status/2026055"
    assert "2026年度 第1四半期（5〜7月）のベスト投稿" in "\n".join(
        m["text"] for m in announcements(fake_slack)
    )


async def test_kpi_history_is_read_once_a_day_unless_a_kpi_value_changes(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    """The KPIs' records and streaks read all history: the day's first run does it; later runs that
    day only count posts and followers, until a KPI value is recorded, which is judged at the next run."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    await seed_record_streak(deps)
    sync_engine = deps.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:

        async def history_reads() -> int:
            statements.clear()
            await run_detection(deps)
            return sum("kpi_value.value" in s and "GROUP BY" not in s for s in statements) + sum(
                "min(kpi_value.month)" in s for s in statements
            )

        clock.set(jst(2026, 11, 4, 10))
        assert await history_reads() > 0
        assert len(await stored(deps)) == 2  # October's record and streak
        for hour in (11, 12, 13):
            clock.set(jst(2026, 11, 4, hour))
            assert await history_reads() == 0
        # October corrected upwards at 13:30: a new best, judged at the next run, not tomorrow.
        async with deps.sessions.begin() as session:
            await record_value(
                session,
                kpi="recruiting_entries",
                month="2026-10",
                day=None,
                value=40,
                source="slack",
                user_id=MANAGER,
                now=jst(2026, 11, 4, 13, 30),
            )
        clock.set(jst(2026, 11, 4, 14))
        assert await history_reads() > 0
        clock.set(jst(2026, 11, 4, 15))
        assert await history_reads() == 0
        clock.set(jst(2026, 11, 5, 10))  # the next day: judged again once
        assert await history_reads() > 0
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)


async def test_the_weekly_digest_shows_the_weeks_milestones(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_record_streak(deps)
    clock.set(jst(2026, 11, 4, 10))
    await run_detection(deps)
    clock.set(jst(2026, 11, 9, 9))  # Monday: the digest of 2026-W45 (11-02 .. 11-08)
    await run_digest_job(deps, "weekly")
    (digest,) = fake_slack.messages(MGMT_CHANNEL)
    sections = [b["text"]["text"] for b in digest["blocks"] if b["type"] == "section" and "text" in b]
    (milestones,) = [s for s in sections if s.startswith("*:tada: 達成したこと*")]
    assert "過去最高" in milestones and "3 か月連続" in milestones
    # The week after shows none.
    fake_slack.reset()
    clock.set(jst(2026, 11, 16, 9))
    await run_digest_job(deps, "weekly")
    later = fake_slack.messages(MGMT_CHANNEL)
    assert later and "達成したこと" not in str(later[0]["blocks"])


async def test_the_announcements_button_shows_the_kpi_to_the_clicker(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    await seed_record_streak(deps)
    clock.set(jst(2026, 11, 4, 10))
    await run_detection(deps)
    message = announcements(fake_slack)[0]
    url = fake_slack.response_url("milestone")
    response = await sender.interactive(
        payloads.block_action(
            KpiActionId.OPEN_DETAIL,
            "recruiting_entries",
            user_id=MANAGER,
            channel_id=TEAM_CHANNEL,
            message=payloads.bot_message(text=message["text"], ts=message["ts"], blocks=message["blocks"]),
            response_url=url,
        )
    )
    assert response.status == 200
    (answer,) = await fake_slack.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    assert answer.params["replace_original"] in (False, "false")
    assert "採用エントリー数" in answer.params["text"]
    assert "2026年10月" in answer.params["text"] and "35" in answer.params["text"]


async def test_two_scheduling_replicas_over_days_announce_each_once_when_october_settles(
    deps: Deps, db_url: str, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    """The jobs `sns-bot run` schedules, in two replicas, from Monday 11-02 to Thursday 11-05: October
    is judged from Wednesday 11-04 (11-03 is Culture Day), and each milestone is announced once."""
    from bot.app import build_scheduler
    from tests.fakes.scheduler import SimulatedScheduler

    await seed_record_streak(deps)
    clock.set(jst(2026, 11, 2, 8))
    other = other_process(deps, db_url, fake_slack, clock)
    try:
        bots = SimulatedScheduler(
            [build_scheduler(deps), build_scheduler(other)],
            clock,
            only=lambda job_id: job_id == "milestones.detect",
        )
        await bots.run_until(jst(2026, 11, 5, 12), step=timedelta(minutes=5))
    finally:
        await other.inflight.drain(10)
        await other.engine.dispose()
    assert len(bots.runs_of("milestones.detect")) > 2 * 24 * 3  # hourly, both replicas, every day
    assert len(announcements(fake_slack)) == 2
    async with deps.sessions() as session:
        rows = (await session.scalars(select(Milestone))).all()
    # Found at the first run in working hours of the first day October was ripe (one 5-minute step).
    (found_at,) = {row.detected_at for row in rows}
    assert jst(2026, 11, 4, 9) <= found_at <= jst(2026, 11, 4, 9, 10)
