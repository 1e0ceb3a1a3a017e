"""Pure KPI rendering: locale number formats and the English status report."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from slack_sdk.models.blocks import Block

from bot.i18n import translator
from bot.kpi import ui
from bot.kpi.numbers import format_change, format_percent, format_value
from bot.kpi.status import KpiMonth, assess
from bot.periods import month_of
from tests.conftest import make_settings

SETTINGS = make_settings()
ENTRIES, RATE, SEARCH = SETTINGS.kpis
EN = translator("en")


def test_numbers_read_like_business_text() -> None:
    yen = replace(ENTRIES, unit="¥")
    assert format_value(ENTRIES, 1234) == "1,234"
    assert format_value(RATE, 3.25) == "3.2%"  # one decimal for rates (banker's rounding of .x5 is fine)
    assert format_value(RATE, 3.0, compact=True) == "3%"
    assert format_value(yen, 12000) == "¥12,000"
    assert format_value(yen, -500) == "−¥500"
    assert format_value(replace(ENTRIES, unit="件"), 12) == "12件"
    assert format_change(RATE, 0.4, EN) == "+0.4 pt"
    assert format_change(ENTRIES, -1200, EN) == "−1,200"
    assert format_percent(112.6) == "113%"
    assert format_percent(12.5, decimals=1, signed=True) == "+12.5%"


def test_english_status_report() -> None:
    nov = month_of(date(2026, 11, 1))
    statuses = [
        assess(
            ENTRIES,
            KpiMonth("recruiting_entries", "2026-11", 20, 30),
            KpiMonth("recruiting_entries", "2026-10", 16, 30),
            elapsed=0.5,
        ),
        assess(
            RATE,
            KpiMonth("engagement_rate", "2026-11", 2.5, 3.0),
            KpiMonth("engagement_rate", "2026-10", 2.5, 3.0),
            elapsed=0.5,
        ),
        assess(SEARCH, KpiMonth("branded_search", "2026-11", None, None), None, elapsed=0.5),
    ]
    message = ui.build_status(
        statuses, month=nov, today=date(2026, 11, 16), elapsed=0.5, cmd="/sns-kpi", t=EN
    )
    sections = [b["text"]["text"] for b in message.blocks_json() if b["type"] == "section"]
    assert sections == [
        "*1 of 2 KPIs with a target are on track.*",
        "*Recruiting entries*   20 / target 30 (67% of target)\n"
        ":large_green_circle: On track · vs last month: +4 / +25.0% (better)",
        "*Engagement rate*   2.5% / target 3% (83% of target)\n:red_circle: Behind · vs last month: no change",
        "*Branded searches*   no figure yet",
    ]
    assert message.blocks_json()[0]["text"]["text"] == "SNS KPIs — 2026-11"
    for block in message.blocks_json():
        Block.parse(block).validate_json()  # type: ignore[union-attr]


def test_record_modal_validates_and_offers_recordable_kpis_and_13_months() -> None:
    view = ui.build_record_modal(settings=SETTINGS, t=translator("ja"), current=month_of(date(2026, 11, 18)))
    view.validate_json()
    assert view.callback_id == "home.record_kpi_modal"
    kpi_select, months = view.blocks[0].element, view.blocks[2].element  # type: ignore[attr-defined]
    assert [o.value for o in kpi_select.options] == ["recruiting_entries", "branded_search"]
    assert [o.value for o in months.options][:3] == ["2026-12", "2026-11", "2026-10"]
    assert len(months.options) == 13 and months.initial_option.value == "2026-11"


def test_record_modal_state_is_read_back() -> None:
    state = {
        "home_kpi": {"home.input.kpi": {"selected_option": {"value": "branded_search"}}},
        "home_value": {"home.input.value": {"value": "  12,500 "}},
        "home_month": {"home.input.month": {"selected_option": None}},
    }
    assert ui.parse_record_modal({"state": {"values": state}}) == ("branded_search", "12,500", None)
    assert ui.parse_record_modal({}) == (None, None, None)
