"""Falling behind is said while there is time: on the first business day on or after the 15th, each
KPI behind its linear pace gets one short alert in the configured channel (not on a holiday, not the
day before, not twice, not again after a restart), lower-is-better KPIs included; its button shows
the KPI's ``/sns-kpi`` answer to the clicker only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from bot.app import build_deps
from bot.clock import FixedClock
from bot.config import Settings
from bot.db import make_engine
from bot.keys import ProcessedKey
from bot.kpi.ids import ActionId as KpiActionId
from bot.kpi.values import record_value
from bot.pace.jobs import run_pace_check
from bot.runtime.deps import Deps
from bot.slack.client import build_web_client
from tests.conftest import BOT_TOKEN, MANAGER, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.scenarios.digest_seed import SEEDED_AT, jst

PACE_CHANNEL = "C0PACE0001"

COST = {
    "key": "cost_per_hire",
    "name": {"ja": "採用単価", "en": "Cost per hire"},
    "unit": "",
    "aggregate": "sum",
    "better": "lower",
    "target": 100,
    "why": {"ja": "採用にかかる費用を抑えます。", "en": "Keeps hiring costs down."},
}


def _with_pace(raw: dict[str, Any]) -> None:
    raw["pace"] = {"channel": PACE_CHANNEL, "threshold_percent": 10}
    raw["kpis"].append(COST)


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=_with_pace)


@pytest.fixture(autouse=True)
async def _owed_work_finished(deps: Deps) -> AsyncIterator[None]:
    """Delivered outbox items are marked done by a background write: let it finish before the store
    closes (else it would open a connection on a disposed engine)."""
    yield
    await deps.inflight.drain(10)


async def seed_september(deps: Deps, *, entries: float, cost: float, branded: float = 11_900) -> None:
    """September 2025 so far: recruiting entries (total, target 30), cost per hire (total, lower is
    better, target 100) and branded searches (a level, target 12,000)."""
    async with deps.sessions.begin() as session:
        for kpi, day, value in (
            ("recruiting_entries", date(2025, 9, 5), entries),
            ("cost_per_hire", date(2025, 9, 8), cost),
            ("branded_search", date(2025, 9, 12), branded),
        ):
            await record_value(
                session,
                kpi=kpi,
                month="2025-09",
                day=day,
                value=value,
                source="import",
                user_id=None,
                now=SEEDED_AT,
            )


def alerts(fake_slack: FakeSlack) -> list[dict[str, Any]]:
    return fake_slack.messages(PACE_CHANNEL)


async def test_one_alert_per_kpi_behind_on_the_right_business_day_only(
    deps: Deps, db_url: str, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_september(deps, entries=6, cost=80)
    # Friday before, the holiday (Monday 09-15, Respect for the Aged Day), the alert day before 10:00.
    for moment in (jst(2025, 9, 12, 10), jst(2025, 9, 15, 10), jst(2025, 9, 16, 9, 30)):
        clock.set(moment)
        assert await run_pace_check(deps) == []
    assert alerts(fake_slack) == []

    clock.set(jst(2025, 9, 16, 10))
    owed = await run_pace_check(deps)
    assert sorted(owed) == ["pace:2025-09:cost_per_hire", "pace:2025-09:recruiting_entries"]
    posted = alerts(fake_slack)
    assert len(posted) == 2
    entries = next(m for m in posted if "採用エントリー数" in m["text"])
    # Value so far, where pace says it should be, what it takes per business day, the why, the button.
    # Elapsed: 15 days and 10 hours of 30 → pace 15; 24 more over 10 business days (09-23 is a holiday).
    assert "現在 *6*" in entries["text"] and "目安 15" in entries["text"]
    assert "残り 10 営業日で 1 日あたり *2.4*" in entries["text"]
    assert "SNS 経由の応募は採用コストを下げます" in str(entries["blocks"])
    (button,) = [e for b in entries["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (button["action_id"], button["value"]) == (KpiActionId.OPEN_DETAIL, "recruiting_entries")
    cost = next(m for m in posted if "採用単価" in m["text"])
    assert "上回っています" in cost["text"] and "1 日あたり *2*" in cost["text"]  # 20 left over 10 days
    assert not any("指名検索数" in m["text"] for m in posted)  # 11,900 of 12,000: within 10 %

    # Later that day, after a restart, the next day: never again this month.
    clock.set(jst(2025, 9, 16, 11))
    assert await run_pace_check(deps) == []
    restarted = build_deps(
        deps.settings,
        clock=clock,
        engine=make_engine(db_url),
        slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
    )
    try:
        clock.set(jst(2025, 9, 16, 15))
        assert await run_pace_check(restarted) == []
    finally:
        await restarted.inflight.drain(10)
        await restarted.engine.dispose()
    clock.set(jst(2025, 9, 17, 10))
    assert await run_pace_check(deps) == []
    assert len(alerts(fake_slack)) == 2


async def test_nothing_is_posted_when_every_kpi_is_on_pace_unless_configured(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_september(deps, entries=16, cost=40, branded=12_500)
    clock.set(jst(2025, 9, 16, 10))
    assert await run_pace_check(deps) == []
    assert alerts(fake_slack) == []


async def test_the_all_on_pace_line_by_config(deps: Deps, clock: FixedClock, fake_slack: FakeSlack) -> None:
    pace = replace(deps.settings.pace, all_on_pace_line=True)
    deps = replace(deps, settings=replace(deps.settings, pace=pace))
    await seed_september(deps, entries=16, cost=40, branded=12_500)
    clock.set(jst(2025, 9, 16, 10))
    assert await run_pace_check(deps) == ["pace:2025-09:_all"]
    (line,) = alerts(fake_slack)
    assert "すべてがペースどおり" in line["text"] and "3 指標" in line["text"]


async def test_a_slack_failure_is_retried_by_the_outbox_without_doubling(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_september(deps, entries=6, cost=40, branded=12_500)
    clock.set(jst(2025, 9, 16, 10))
    fake_slack.fail("chat.postMessage", error="internal_error", times=None)
    assert await run_pace_check(deps) == ["pace:2025-09:recruiting_entries"]
    assert alerts(fake_slack) == []
    fake_slack.reset()
    clock.advance(minutes=10)
    report = await deps.outbox.sweep()
    assert report.delivered == ["pace:2025-09:recruiting_entries"]
    assert len(alerts(fake_slack)) == 1
    clock.advance(minutes=60)
    await deps.outbox.sweep()
    assert len(alerts(fake_slack)) == 1


async def test_the_button_shows_the_kpi_answer_to_the_clicker(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    await seed_september(deps, entries=6, cost=40, branded=12_500)
    clock.set(jst(2025, 9, 16, 10))
    await run_pace_check(deps)
    (alert,) = alerts(fake_slack)
    url = fake_slack.response_url("pace")
    response = await sender.interactive(
        payloads.block_action(
            KpiActionId.OPEN_DETAIL,
            "recruiting_entries",
            user_id=MANAGER,
            channel_id=PACE_CHANNEL,
            message=payloads.bot_message(text=alert["text"], ts=alert["ts"], blocks=alert["blocks"]),
            response_url=url,
        )
    )
    assert response.status == 200
    (answer,) = await fake_slack.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    assert "採用エントリー数" in answer.params["text"] and "2025年9月" in answer.params["text"]
    # Nothing was posted for everyone.
    assert len(alerts(fake_slack)) == 1


async def test_a_button_for_a_kpi_no_longer_configured_answers_clearly(
    deps: Deps, fake_slack: FakeSlack, sender: SlackSender
) -> None:
    url = fake_slack.response_url("gone")
    await sender.interactive(
        payloads.block_action(KpiActionId.OPEN_DETAIL, "<!channel>", user_id=MANAGER, response_url=url)
    )
    (answer,) = await fake_slack.wait_for("response_url")
    assert answer.params["response_type"] == "ephemeral"
    assert "<!channel>" not in str(answer.params)


async def test_nothing_after_closing_time_on_the_alert_day(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_september(deps, entries=6, cost=40, branded=12_500)
    clock.set(jst(2025, 9, 16, 18, 30))  # working hours end at 18:00: nobody would read it tonight
    assert await run_pace_check(deps) == []
    assert alerts(fake_slack) == []


async def test_two_replicas_checking_at_once_alert_once(
    deps: Deps, db_url: str, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_september(deps, entries=6, cost=80)
    clock.set(jst(2025, 9, 16, 10))
    other = build_deps(
        deps.settings,
        clock=clock,
        engine=make_engine(db_url),
        slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
    )
    try:
        results = await asyncio.gather(run_pace_check(deps), run_pace_check(other), run_pace_check(deps))
    finally:
        await other.inflight.drain(10)
        await other.engine.dispose()
    assert sorted(key for keys in results for key in keys) == [
        "pace:2025-09:cost_per_hire",
        "pace:2025-09:recruiting_entries",
    ]
    assert len(alerts(fake_slack)) == 2


async def test_two_scheduling_replicas_over_four_days_alert_once_on_the_alert_day(
    deps: Deps, db_url: str, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    """The jobs `sns-bot run` schedules, in two replicas, stepped from Friday 09-12 to Wednesday 09-17:
    the alerts go out once, at 10:00 on Tuesday 09-16 (Monday 09-15 is a public holiday)."""
    from bot.app import build_scheduler
    from tests.fakes.scheduler import SimulatedScheduler

    await seed_september(deps, entries=6, cost=80)
    clock.set(jst(2025, 9, 12, 8))
    other = build_deps(
        deps.settings,
        clock=clock,
        engine=make_engine(db_url),
        slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
    )
    try:
        bots = SimulatedScheduler(
            [build_scheduler(deps), build_scheduler(other)], clock, only=lambda job_id: job_id == "pace.check"
        )
        await bots.run_until(jst(2025, 9, 17, 19), step=timedelta(minutes=5))
    finally:
        await other.inflight.drain(10)
        await other.engine.dispose()
    # Hourly in both replicas (Friday 08:00 … Wednesday 18:00: 131 runs each).
    assert len(bots.runs_of("pace.check")) == 2 * 131
    assert len(alerts(fake_slack)) == 2
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    async with deps.sessions() as session:
        claimed = await session.get(ProcessedKey, "pace:2025-09")
    assert claimed is not None and claimed.created_at == jst(2025, 9, 16, 10)


async def test_a_bot_down_all_the_alert_day_catches_up_once_the_next_business_day(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    """Nothing ran on Tuesday 09-16 (the alert day): Wednesday's first run sends the alerts once,
    with Wednesday's figures and a line saying they are late; later runs send nothing."""
    await seed_september(deps, entries=6, cost=40, branded=12_500)
    clock.set(jst(2025, 9, 17, 8))  # before working hours: still nothing
    assert await run_pace_check(deps) == []
    clock.set(jst(2025, 9, 17, 9))
    assert await run_pace_check(deps) == ["pace:2025-09:recruiting_entries"]
    (alert,) = alerts(fake_slack)
    # 16 days and 9 hours of 30 elapsed: pace 16; 24 more over the 9 business days left.
    assert "現在 *6*" in alert["text"] and "目安 16" in alert["text"]
    assert "残り 9 営業日" in alert["text"]
    assert "9月16日 にお送りする予定でしたが" in alert["text"] and "数値は 9月17日 時点です" in alert["text"]
    for moment in (jst(2025, 9, 17, 15), jst(2025, 9, 18, 10)):
        clock.set(moment)
        assert await run_pace_check(deps) == []
    assert len(alerts(fake_slack)) == 1


async def test_no_catch_up_past_the_window_nor_when_turned_off(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_september(deps, entries=6, cost=40, branded=12_500)
    clock.set(jst(2025, 9, 22, 10))  # the fourth business day after the alert day (default window: 3)
    assert await run_pace_check(deps) == []
    off = replace(deps, settings=replace(deps.settings, pace=replace(deps.settings.pace, catch_up_days=0)))
    clock.set(jst(2025, 9, 17, 10))
    assert await run_pace_check(off) == []
    assert alerts(fake_slack) == []
    clock.set(jst(2025, 9, 18, 10))
    assert await run_pace_check(deps) == ["pace:2025-09:recruiting_entries"]
    assert "遅れてお知らせします" in alerts(fake_slack)[0]["text"]


async def test_an_alert_sent_on_its_day_has_no_late_line(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_september(deps, entries=6, cost=40, branded=12_500)
    clock.set(jst(2025, 9, 16, 10))
    await run_pace_check(deps)
    (alert,) = alerts(fake_slack)
    assert "遅れて" not in alert["text"] and "時点です" not in alert["text"]
