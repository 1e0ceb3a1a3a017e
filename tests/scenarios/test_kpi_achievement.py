"""One meaning of "on target": a lower-is-better KPI's month reads the same % of target in the
/sns-kpi answer, on the App Home, in the monthly digest (message and CSV) and in the chart colour."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Settings
from bot.digest.render import render
from bot.kpi.charts import _GOOD_COLOR, _signal_color
from bot.kpi.values import record_value, set_target
from bot.periods import PeriodKind, parse_period
from bot.runtime.deps import Deps
from tests.conftest import ADMIN, NOW, OPERATOR, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.home.home_seed import open_home, texts

CHANNEL = "C0TEAM0001"


def _with_cost_per_hire(raw: dict[str, Any]) -> None:
    raw["kpis"].append(
        {
            "key": "cost_per_hire",
            "name": {"ja": "採用単価", "en": "Cost per hire"},
            "unit": "¥",
            "aggregate": "last",
            "better": "lower",
            "target": 12000,
            "why": {"ja": "採用コストの効率です。", "en": "How efficiently we hire."},
        }
    )


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    return make_settings(db_url=db_url, api_url=fake_slack.api_url, change=_with_cost_per_hire)


async def test_the_same_month_reads_the_same_percent_everywhere(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    async with deps.sessions.begin() as session:
        # The month's target is 10,000 (overriding the config's 12,000); 7,500 beats it: 133 %.
        await set_target(session, kpi="cost_per_hire", month="2026-11", value=10000, user_id=ADMIN, now=NOW)
        await record_value(
            session,
            kpi="cost_per_hire",
            month="2026-11",
            day=None,
            value=7500,
            source="slack",
            user_id=ADMIN,
            now=NOW,
        )

    url = fake_slack.response_url("kpi")
    response = await sender.command(
        payloads.slash_command("/sns-kpi", "", user_id=OPERATOR, channel_id=CHANNEL, response_url=url)
    )
    assert response.status == 200
    answer = (await fake_slack.wait_for("response_url", count=1))[0].params["text"]
    home = texts(await open_home(sender, fake_slack, OPERATOR))
    digest = await render(deps, kind=PeriodKind.MONTHLY, period=parse_period("monthly", "2026-11"))
    message = digest.message(deps.settings, "C0MGMT0001").text
    csv_text = next(u for u in digest.uploads if u.filename.endswith(".csv")).content.decode("utf-8-sig")

    for surface in (answer, home, message):
        assert "133%" in surface or "133 %" in surface, surface
        assert "75%" not in surface and "75 %" not in surface
    assert ",133.3," in csv_text or ",133.3\r" in csv_text or ",133.3\n" in csv_text, csv_text
    assert _signal_color(7500, 10000, "lower") == _GOOD_COLOR
