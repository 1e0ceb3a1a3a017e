"""Fiscal quarters, halves and years: the quarter of a month, labels in both languages, parsing
``2026-Q3``, the previous quarter and year across the fiscal year's turn (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import BotError
from bot.i18n import translator
from bot.periods import (
    FiscalKind,
    Period,
    PeriodKind,
    fiscal_label,
    fiscal_span,
    fiscal_spans,
    fiscal_year_of,
    last_finished,
    parse_period,
    quarter_label,
    quarter_of,
)
from tests.test_periods import TOKYO

JA, EN = translator("ja"), translator("en")


@pytest.mark.parametrize(
    ("day", "start", "fiscal_year", "quarter", "first_month"),
    [
        (date(2026, 11, 18), 4, 2026, 3, 10),
        (date(2027, 2, 10), 4, 2026, 4, 1),  # February belongs to the fiscal year that began in April
        (date(2026, 4, 1), 4, 2026, 1, 4),
        (date(2026, 3, 31), 4, 2025, 4, 1),
        (date(2026, 11, 18), 1, 2026, 4, 10),
        (date(2026, 11, 18), 10, 2026, 1, 10),  # an October year: Q1 is October to December
        (date(2026, 9, 30), 10, 2025, 4, 7),
    ],
)
def test_the_quarter_of_a_day(
    day: date, start: int, fiscal_year: int, quarter: int, first_month: int
) -> None:
    span = fiscal_span(FiscalKind.QUARTER, day, start)
    assert (span.fiscal_year, span.number, span.start.month) == (fiscal_year, quarter, first_month)
    assert fiscal_year_of(day, start) == fiscal_year
    period = quarter_of(day, start)
    assert period.label == f"{fiscal_year}-Q{quarter}"
    assert [m.start.month for m in period.months()] == [(first_month - 1 + i) % 12 + 1 for i in range(3)]


def test_labels_in_both_languages() -> None:
    quarter, half, year = fiscal_spans(date(2026, 11, 18), 4)
    assert fiscal_label(quarter, JA) == "2026年度 第3四半期（10〜12月）"
    assert fiscal_label(quarter, EN) == "FY2026 Q3 (Oct–Dec)"
    assert fiscal_label(half, JA) == "2026年度 下期（10月〜翌3月）"
    assert fiscal_label(half, EN) == "FY2026 H2 (Oct–Mar)"
    assert fiscal_label(year, JA) == "2026年度（2026年4月〜2027年3月）"
    assert fiscal_label(year, EN) == "FY2026 (Apr 2026–Mar 2027)"
    first_half = fiscal_span(FiscalKind.HALF, date(2026, 5, 1), 4)
    assert fiscal_label(first_half, JA) == "2026年度 上期（4〜9月）"
    calendar_year = fiscal_span(FiscalKind.YEAR, date(2026, 5, 1), 1)
    assert fiscal_label(calendar_year, EN) == "FY2026 (Jan 2026–Dec 2026)"
    assert quarter_label(quarter.as_period(), JA) == "2026年度 第3四半期（10〜12月）"


def test_parse_a_quarter_and_step_across_the_fiscal_year() -> None:
    q4 = parse_period(PeriodKind.QUARTERLY, "2026-Q4", fiscal_start=4)
    assert (q4.start, q4.end) == (date(2027, 1, 1), date(2027, 4, 1))
    assert q4.next().label == "2027-Q1" and q4.next().start == date(2027, 4, 1)
    assert q4.previous().label == "2026-Q3"
    assert parse_period(PeriodKind.QUARTERLY, "2026-q1", fiscal_start=1).start == date(2026, 1, 1)
    year = fiscal_span(FiscalKind.YEAR, date(2026, 11, 18), 4)
    assert year.previous().fiscal_year == 2025 and year.year_before().fiscal_year == 2025
    assert fiscal_span(FiscalKind.QUARTER, date(2026, 11, 18), 4).year_before().start == date(2025, 10, 1)


@pytest.mark.parametrize("text", ["2026-Q0", "2026-Q5", "2026-3", "26-Q3", "2026-Q３", "FY2026-Q1"])
def test_a_bad_quarter_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(BotError) as raised:
        parse_period(PeriodKind.QUARTERLY, text, fiscal_start=4)
    assert raised.value.key == "periods.errors.bad_period"
    assert raised.value.params["example"] == "2026-Q3"


def test_a_quarter_that_is_not_whole_is_no_period() -> None:
    with pytest.raises(ValueError):
        Period(PeriodKind.QUARTERLY, date(2026, 11, 1), date(2027, 2, 1), fiscal_start=4)


def test_the_last_finished_quarter() -> None:
    now = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert last_finished(PeriodKind.QUARTERLY, now, TOKYO, fiscal_start=4).label == "2026-Q2"
    assert last_finished(PeriodKind.QUARTERLY, now, TOKYO, fiscal_start=1).label == "2026-Q3"


@given(st.dates(min_value=date(1971, 1, 1), max_value=date(9998, 1, 1)), st.integers(1, 12))
def test_spans_contain_their_day_and_nest(day: date, start: int) -> None:
    quarter, half, year = fiscal_spans(day, start)
    for span in (quarter, half, year):
        assert span.start <= day < span.end
        assert span.fiscal_year == year.fiscal_year
    assert half.start <= quarter.start and quarter.end <= half.end
    assert len(year.months()) == 12 and year.start.month == start
    period = quarter.as_period()
    assert parse_period(PeriodKind.QUARTERLY, period.label, fiscal_start=start) == period
