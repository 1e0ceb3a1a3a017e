"""/sns-kpi KEY through signed requests: this quarter, half and fiscal year against their summed (or
averaged) targets, with the fiscal year starting in April (Japan's 年度) and in January."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.config import Settings
from bot.kpi.records import PostRecord
from bot.kpi.values import record_value, set_target, upsert_posts
from bot.metrics import Metrics
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, MANAGER, NOW, OPERATOR, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

CHANNEL = "C0TEAM0001"
COST = {
    "key": "cost_per_entry",
    "name": {"ja": "応募単価", "en": "Cost per entry"},
    "unit": "円",
    "aggregate": "mean",
    "better": "lower",
    "target": 5000,
    "why": {"ja": "採用の効率を表します。", "en": "How efficiently we recruit."},
}


@pytest.fixture(params=[4, 1], ids=["april", "january"])
def fiscal_start(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack, fiscal_start: int) -> Settings:
    def change(raw: dict[str, Any]) -> None:
        raw["fiscal_year_start"] = fiscal_start
        raw["kpis"].append(COST)

    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=change)


async def _seed(deps: Deps) -> None:
    async with deps.sessions.begin() as session:
        for month, value in (
            ("2026-01", 10),
            ("2026-04", 20),
            ("2026-07", 25),
            ("2026-09", 30),
            ("2026-10", 20),
        ):
            await record_value(
                session,
                kpi="recruiting_entries",
                month=month,
                day=None,
                value=value,
                source="slack",
                user_id=MANAGER,
                now=NOW,
            )
        for day, value in ((date(2026, 11, 3), 10), (date(2026, 11, 10), 4)):
            await record_value(
                session,
                kpi="recruiting_entries",
                month="2026-11",
                day=day,
                value=value,
                source="import",
                user_id=None,
                now=NOW,
            )
        # December's target is raised: the quarter's target is the sum of its months' targets.
        await set_target(session, kpi="recruiting_entries", month="2026-12", value=40, user_id=ADMIN, now=NOW)
        for month, value in (("2026-10", 4000), ("2026-11", 7000)):
            await record_value(
                session,
                kpi="cost_per_entry",
                month=month,
                day=None,
                value=value,
                source="slack",
                user_id=MANAGER,
                now=NOW,
            )
        # October: 3.0 %, November: 160 / 5,000 = 3.2 %; the quarter: 190 / 6,000 = 3.17 %
        # (the mean of the monthly rates, 3.1 %, would weigh the quiet month as much as the busy one).
        posts = [
            ("1", datetime(2026, 10, 10, tzinfo=UTC), Metrics(impressions=1000, engagements=30)),
            ("2", datetime(2026, 11, 5, tzinfo=UTC), Metrics(impressions=2000, likes=50, comments=10)),
            ("3", datetime(2026, 11, 12, tzinfo=UTC), Metrics(impressions=3000, engagements=100)),
        ]
        await upsert_posts(
            session,
            [PostRecord("x", ext, when, account_key="x_corp", metrics=m) for ext, when, m in posts],
            source="import",
            now=NOW,
        )


async def _ask(sender: SlackSender, fake_slack: FakeSlack, text: str) -> dict[str, Any]:
    url = fake_slack.response_url("kpi")
    response = await sender.command(
        payloads.slash_command("/sns-kpi", text, user_id=OPERATOR, channel_id=CHANNEL, response_url=url)
    )
    assert response.status == 200
    # The answer, then (after the chart went to the asker's DM) a note saying so.
    answer, note = await fake_slack.wait_for("response_url", count=2)
    assert "blocks" not in note.params
    return answer.params


def _fiscal(answer: dict[str, Any]) -> list[str]:
    sections = [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section"]
    (text,) = [s for s in sections if s.startswith("*今年度の状況*")]
    return text.split("\n")


async def test_a_total_shows_quarter_half_and_year_against_summed_targets(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, fiscal_start: int
) -> None:
    await _seed(deps)
    answer = await _ask(sender, fake_slack, "recruiting_entries")
    lines = _fiscal(answer)
    # 2026-11-18: Oct 20 + Nov 14 so far; targets 30 + 30 + 40 (December raised) = 100.
    if fiscal_start == 4:
        assert lines[1:] == [
            "*2026年度 第3四半期（10〜12月）*  34 / 100（目標の 34%）・合計と目標合計の比較・"
            "3 か月中 2 か月分の値・:red_circle: 目標ペースを下回っています",
            "*2026年度 下期（10月〜翌3月）*  34 / 190（目標の 18%）・合計と目標合計の比較・"
            "6 か月中 2 か月分の値・:red_circle: 目標ペースを下回っています",
            # April … November: 20 + 25 + 30 + 20 + 14; targets 11 × 30 + 40.
            "*2026年度（2026年4月〜2027年3月）*  109 / 370（目標の 29%）・合計と目標合計の比較・"
            "12 か月中 5 か月分の値・:red_circle: 目標ペースを下回っています",
        ]
    else:
        assert lines[1:] == [
            "*2026年度 第4四半期（10〜12月）*  34 / 100（目標の 34%）・合計と目標合計の比較・"
            "3 か月中 2 か月分の値・:red_circle: 目標ペースを下回っています",
            "*2026年度 下期（7〜12月）*  89 / 190（目標の 47%）・合計と目標合計の比較・"
            "6 か月中 4 か月分の値・:red_circle: 目標ペースを下回っています",
            # January … November: 10 + 20 + 25 + 30 + 20 + 14.
            "*2026年度（2026年1月〜2026年12月）*  119 / 370（目標の 32%）・合計と目標合計の比較・"
            "12 か月中 6 か月分の値・:red_circle: 目標ペースを下回っています",
        ]
    assert lines[1] in answer["text"]  # the fallback text carries the roll-up too
    # The 12-month history is still the second section.
    history = [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section"][1].split("\n")
    assert len(history) == 12


async def test_a_rate_is_the_spans_posts_and_a_lower_is_better_average_is_judged_downwards(
    sender: SlackSender, fake_slack: FakeSlack, deps: Deps, fiscal_start: int
) -> None:
    await _seed(deps)
    rate = _fiscal(await _ask(sender, fake_slack, "engagement_rate"))
    quarter = "第3四半期" if fiscal_start == 4 else "第4四半期"
    assert rate[2] == (
        f"*2026年度 {quarter}（10〜12月）*  3.2% / 3%（目標の 106%）・率と目標平均の比較・"
        "3 か月中 2 か月分の値・:large_green_circle: 目標ペースです"
    )
    assert "エンゲージメント合計 ÷ インプレッション合計" in rate[1]

    fake_slack.calls.clear()
    cost = _fiscal(await _ask(sender, fake_slack, "cost_per_entry"))
    assert cost[0] == "*今年度の状況* （低いほど良い指標です）"
    # (4,000 + 7,000) / 2 = 5,500 against 5,000: above a lower-is-better target is behind.
    assert cost[1] == (
        f"*2026年度 {quarter}（10〜12月）*  5,500円 / 5,000円（目標の 91%）・平均と目標平均の比較・"
        "3 か月中 2 か月分の値・:red_circle: 目標ペースを下回っています"
    )
