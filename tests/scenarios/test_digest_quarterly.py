"""The quarterly KPI digest for executives, end to end: off by default; when on, the fiscal quarter's
totals against summed targets posted once (also by two runners at once), caught up after downtime,
with the chart, the CSV and the one-page PDF (Japanese text embedded) in its thread."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from bot.app import build_deps
from bot.clock import FixedClock
from bot.config import Settings
from bot.db import make_engine
from bot.digest.jobs import catch_up, register_jobs, run_digest_job, run_digest_sweep
from bot.digest.models import DigestRun
from bot.periods import PeriodKind
from bot.runtime.deps import Deps
from bot.slack.client import build_web_client
from tests.conftest import BOT_TOKEN, MANAGER, OPERATOR, make_settings
from tests.digest.pdf_support import embedded_fonts, pdf_text
from tests.fakes.slack import FakeSlack
from tests.scenarios.digest_seed import add_kpi, add_post, add_review, jst

EXEC = "C0EXEC0001"
Q = PeriodKind.QUARTERLY


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    def change(raw: dict[str, Any]) -> None:
        # fiscal_year_start is left out: April, Japan's 年度, by default.
        raw["digest"]["quarterly"] = {"enabled": True, "channels": [EXEC]}

    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=change)


async def seed_quarters(deps: Deps) -> None:
    """FY2026 Q2 (July to September 2026), the quarter before it and the same quarter of FY2025."""
    async with deps.sessions.begin() as session:
        for month, value in (("2026-07", 25), ("2026-08", 35), ("2026-09", 40)):
            await add_kpi(session, kpi="recruiting_entries", month=month, value=value)
        for month in ("2026-04", "2026-05", "2026-06", "2025-07", "2025-08", "2025-09"):
            value = 20 if month.startswith("2026") else 10
            await add_kpi(session, kpi="recruiting_entries", month=month, value=value)
        for month, value in (("2026-07", 11000), ("2026-08", 11500), ("2026-09", 12600)):
            await add_kpi(session, kpi="branded_search", month=month, value=value)
        # July 3.0 %, August 5.0 %: the quarter is 230 / 5,000 = 4.6 % (not the months' mean, 4.0 %).
        await add_post(session, n=1, at=jst(2026, 7, 10, 12), impressions=1000, engagements=30)
        await add_post(
            session,
            n=2,
            at=jst(2026, 8, 20, 12),
            impressions=4000,
            engagements=200,
            text="採用説明会のお知らせ",
        )
        await add_review(
            session,
            requester=OPERATOR,
            created=jst(2026, 8, 19, 10),
            decided=jst(2026, 8, 19, 13),
            decider=MANAGER,
        )


async def runs(deps: Deps) -> list[tuple[str, str, str, str]]:
    async with deps.sessions() as session:
        rows = (await session.scalars(select(DigestRun).where(DigestRun.kind == Q))).all()
    return [(r.kind, r.period, r.status, r.channel_id) for r in rows]


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for block in blocks:
        if block.get("text"):
            out.append(block["text"]["text"])
        for element in block.get("elements") or []:
            if "text" in element:
                out.append(element["text"])
    return out


async def test_the_quarterly_digest_is_off_by_default(db_url: str, fake_slack: FakeSlack) -> None:
    settings = make_settings(db_url=db_url, api_url=fake_slack.api_url)
    assert settings.digest.quarterly.enabled is False
    assert settings.fiscal_year_start == 4
    deps = build_deps(settings, clock=FixedClock(jst(2026, 10, 1, 9)), engine=make_engine(db_url))
    try:
        scheduler = AsyncIOScheduler(timezone=settings.tz)
        register_jobs(scheduler, deps)
        assert "digest.quarterly" not in {job.id for job in scheduler.get_jobs()}
        assert "digest.monthly" in {job.id for job in scheduler.get_jobs()}
    finally:
        await deps.engine.dispose()


async def test_a_quarter_is_posted_once_with_summed_targets_and_a_pdf_in_its_thread(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_quarters(deps)
    fake_slack.users[MANAGER] = {"profile": {"display_name": "佐藤部長", "real_name": "佐藤 花子"}}
    clock.set(jst(2026, 10, 1, 9))  # Thursday: the first business day after the quarter
    await run_digest_job(deps, Q)
    await run_digest_job(deps, Q)  # a second run (another replica, a retry) changes nothing

    (post,) = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == EXEC]
    assert post.params["metadata"]["event_payload"] == {
        "kind": "quarterly",
        "period": "2026-Q2",
        "channel": EXEC,
    }
    assert await runs(deps) == [("quarterly", "2026-Q2", "posted", EXEC)]
    lines = post.params["text"].splitlines()
    assert lines[0] == "SNS 四半期 KPI レポート 2026年度 第2四半期（7〜9月）"
    # 25 + 35 + 40 against 3 × 30; the quarter before: 60; the same quarter last year: 30.
    assert lines[1] == "採用エントリー数は前四半期から 40 増えて 100（目標比 111%）となりました。"
    body = texts(post.params["blocks"])
    assert body[0] == "SNS 四半期 KPI レポート（2026年度 第2四半期（7〜9月））"
    assert body[2] == "*:bar_chart: 四半期の指標と目標*"
    assert body[3].endswith("実績 100・目標 90・達成率 111%・前四半期比 +40（+67%）・前年同期比 +70（+233%）")
    rate = next(b for b in body if "エンゲージメント率*" in b)
    assert "実績 4.6%・目標 3.0%・達成率 153%" in rate
    search = next(b for b in body if "指名検索数*" in b)
    assert "実績 12,600・目標 12,000・達成率 105%" in search  # a level: September's value and target

    ts = fake_slack.messages(EXEC)[0]["ts"]
    (complete,) = [
        c for c in fake_slack.calls_to("files.completeUploadExternal") if c.params["channel_id"] == EXEC
    ]
    assert complete.params["thread_ts"] == ts
    uploaded = {fake_slack.files[f]["name"]: data for f, data in fake_slack.uploads.items()}
    assert {"sns-kpi-2026-Q2.png", "sns-kpi-2026-Q2.csv", "sns-kpi-2026-Q2.pdf"} <= set(uploaded)
    pdf = uploaded["sns-kpi-2026-Q2.pdf"]
    page = pdf_text(pdf)
    assert "SNS 四半期 KPI レポート（2026年度 第2四半期（7〜9月））" in page
    for expected in (
        "採用エントリー数",
        "エンゲージメント率",
        "指名検索数",
        "100",
        "90",
        "111%",
        "4.6%",
        "12,600",
    ):
        assert expected in page, expected
    assert "前四半期比" in page and "前年同期比" in page
    # On paper a mention does not resolve: the page names the reviewer as Slack does.
    assert "佐藤部長" in page and MANAGER not in page
    assert any("IPAexGothic" in name for name in embedded_fonts(pdf))


async def test_a_missed_quarter_is_caught_up_once_by_two_runners(
    deps: Deps, db_url: str, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    await seed_quarters(deps)
    # The bot was down on 2026-10-01 09:00; two replicas start the next morning, within the grace.
    clock.set(jst(2026, 10, 2, 10))
    other_engine = make_engine(db_url)
    other = build_deps(
        deps.settings,
        clock=clock,
        engine=other_engine,
        slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
    )
    try:
        started = await asyncio.gather(catch_up(deps), catch_up(other))
        assert [result["quarterly"] for result in started] == ["sent", "sent"]
        for _minute in range(3):  # and both sweep every minute afterwards
            clock.advance(minutes=1)
            await asyncio.gather(run_digest_sweep(deps), run_digest_sweep(other))
    finally:
        await other_engine.dispose()
    posts = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == EXEC]
    assert len(posts) == 1
    ts = fake_slack.messages(EXEC)[0]["ts"]
    # The digest and one message sharing its files, in its thread.
    assert [m.get("thread_ts") for m in fake_slack.messages(EXEC)] == [ts, ts]
    assert await runs(deps) == [("quarterly", "2026-Q2", "posted", EXEC)]


async def test_beyond_the_grace_window_the_quarter_is_recorded_missed(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    clock.set(jst(2026, 10, 9, 10))  # eight days late, three allowed
    assert (await catch_up(deps))["quarterly"] == "missed"
    assert fake_slack.messages(EXEC) == []
    assert await runs(deps) == [("quarterly", "2026-Q2", "missed", EXEC)]


async def test_the_quarter_follows_the_fiscal_year_start(
    deps: Deps, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    """With a calendar fiscal year, July to September is Q3, posted on the first business day of October."""
    deps = replace(deps, settings=replace(deps.settings, fiscal_year_start=1))
    await seed_quarters(deps)
    clock.set(jst(2026, 10, 1, 9))
    await run_digest_job(deps, Q)
    (post,) = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == EXEC]
    assert post.params["metadata"]["event_payload"]["period"] == "2026-Q3"
    assert post.params["text"].splitlines()[0] == "SNS 四半期 KPI レポート 2026年度 第3四半期（7〜9月）"
