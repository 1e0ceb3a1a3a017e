"""The pace alert in both languages: value so far, pace, need per business day or the target for a
level, the why and the button; valid Block Kit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.i18n import translator
from bot.kpi.ids import ActionId as KpiActionId
from bot.kpi.pace import pace_of
from bot.kpi.status import KpiMonth
from bot.pace.ui import Late, build_alert, build_all_on_pace
from bot.periods import parse_period
from tests.conftest import make_settings
from tests.fakes import blockkit

NOVEMBER = parse_period("monthly", "2026-11")


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_alerts_for_a_total_a_level_and_a_lower_is_better_kpi(locale: str) -> None:
    settings = make_settings(change=lambda raw: raw.update(locale=locale))
    t = translator(settings.locale)
    entries, rate = settings.kpi_def("recruiting_entries"), settings.kpi_def("engagement_rate")
    assert entries is not None and rate is not None
    cost = replace(entries, key="cost", better="lower", target=100.0)
    cases = [
        (
            entries,
            KpiMonth("recruiting_entries", "2026-11", 12, 30),
            {"ja": "1 日あたり *2* が必要", "en": "needs *2* a business day"},
        ),
        (rate, KpiMonth("engagement_rate", "2026-11", 2.1, 3.0), {"ja": "3% まで", "en": "rise to 3%"}),
        (cost, KpiMonth("cost", "2026-11", 120, 100), {"ja": "すでに月間目標の 100", "en": "already past"}),
    ]
    for kpi, month, expected in cases:
        pace = pace_of(kpi, month, elapsed=0.5, remaining_days=9, threshold_percent=10)
        assert pace is not None and pace.behind
        message = build_alert(pace, month=NOVEMBER, settings=settings, t=t)
        blocks = message.blocks_json()
        assert blockkit.message_errors(blocks) is None
        assert expected[locale] in message.text
        (button,) = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
        assert (button["action_id"], button["value"]) == (KpiActionId.OPEN_DETAIL, kpi.key)
        assert kpi.why.get(settings.locale) in str(blocks)


def test_the_all_on_pace_line() -> None:
    message = build_all_on_pace(month=NOVEMBER, kpis=3, t=translator("en"))
    assert (
        message.text == ":white_check_mark: November 2026: all 3 KPIs with a target are on pace."
        or "3 KPIs" in message.text
    )
    assert blockkit.message_errors(message.blocks_json()) is None


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "ja",
            "9月16日 にお送りする予定でしたが、ボットが停止していたため遅れてお知らせします。数値は 9月17日 時点です。",
        ),
        ("en", "This alert was due on 9/16 but the bot was not running then; the figures are as of 9/17."),
    ],
)
def test_a_caught_up_alert_says_it_is_late_and_as_of_when(locale: str, expected: str) -> None:
    settings = make_settings(change=lambda raw: raw.update(locale=locale))
    t = translator(locale)
    entries = settings.kpi_def("recruiting_entries")
    assert entries is not None
    pace = pace_of(
        entries,
        KpiMonth("recruiting_entries", "2025-09", 6, 30),
        elapsed=0.5,
        remaining_days=9,
        threshold_percent=10,
    )
    assert pace is not None
    late = Late(due_on=date(2025, 9, 16), as_of=date(2025, 9, 17))
    september = parse_period("monthly", "2025-09")
    for message in (
        build_alert(pace, month=september, settings=settings, t=t, late=late),
        build_all_on_pace(month=september, kpis=3, t=t, late=late),
    ):
        assert expected in message.text
        assert blockkit.message_errors(message.blocks_json()) is None
