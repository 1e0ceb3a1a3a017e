"""ISO weeks and calendar months: labels, parsing, year boundaries, UTC bounds across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.errors import BotError
from bot.periods import (
    Period,
    elapsed_share,
    last_finished,
    month_of,
    months_back,
    parse_period,
    period_of,
    same_month_last_year,
    week_of,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


# -- ISO weeks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "label", "monday"),
    [
        (date(2026, 12, 31), "2026-W53", date(2026, 12, 28)),  # 2026 starts on a Thursday: 53 weeks
        (date(2027, 1, 3), "2026-W53", date(2026, 12, 28)),  # a Sunday in January still in 2026's W53
        (date(2027, 1, 4), "2027-W01", date(2027, 1, 4)),
        (date(2025, 12, 29), "2026-W01", date(2025, 12, 29)),  # a December Monday already in 2026-W01
        (date(2026, 11, 22), "2026-W47", date(2026, 11, 16)),
    ],
)
def test_week_of_uses_iso_week_numbering(day: date, label: str, monday: date) -> None:
    week = week_of(day)
    assert week == Period("weekly", monday, monday + timedelta(days=7))
    assert week.label == label
    assert str(week) == label


def test_weeks_step_across_the_year_boundary() -> None:
    w53 = parse_period("weekly", "2026-W53")
    assert w53.next().label == "2027-W01"
    assert w53.next().previous() == w53
    assert parse_period("weekly", "2027-W01").previous().label == "2026-W53"


# -- months ---------------------------------------------------------------------------------


def test_month_of_and_neighbours() -> None:
    november = month_of(date(2026, 11, 30))
    assert november == Period("monthly", date(2026, 11, 1), date(2026, 12, 1))
    assert november.label == "2026-11"
    assert november.next() == Period("monthly", date(2026, 12, 1), date(2027, 1, 1))
    assert november.next().next().label == "2027-01"
    assert month_of(date(2026, 1, 15)).previous().label == "2025-12"


def test_period_of_picks_by_kind() -> None:
    assert period_of("weekly", date(2026, 11, 18)).label == "2026-W47"
    assert period_of("monthly", date(2026, 11, 18)).label == "2026-11"


def test_months_back_lists_oldest_first() -> None:
    march = parse_period("monthly", "2026-03")
    history = months_back(march, 12)
    assert [m.label for m in history] == [
        "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09",
        "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03",
    ]  # fmt: skip
    assert months_back(march, 1) == [march]
    assert months_back(march, 0) == []
    with pytest.raises(ValueError):
        months_back(march, -1)
    with pytest.raises(ValueError):
        months_back(week_of(date(2026, 3, 2)), 3)


def test_same_month_last_year() -> None:
    assert same_month_last_year(parse_period("monthly", "2026-02")).label == "2025-02"
    assert same_month_last_year(parse_period("monthly", "2026-01")) == Period(
        "monthly", date(2025, 1, 1), date(2025, 2, 1)
    )


def test_periods_sort_chronologically_within_a_kind() -> None:
    months = [parse_period("monthly", text) for text in ("2026-11", "2025-12", "2026-02")]
    assert [m.label for m in sorted(months)] == ["2025-12", "2026-02", "2026-11"]


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("weekly", date(2026, 11, 17), date(2026, 11, 24)),  # a Tuesday
        ("weekly", date(2026, 11, 16), date(2026, 11, 22)),  # six days
        ("monthly", date(2026, 11, 2), date(2026, 12, 1)),
        ("monthly", date(2026, 11, 1), date(2026, 12, 31)),
        ("yearly", date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_period_rejects_ranges_that_are_not_a_whole_period(kind: str, start: date, end: date) -> None:
    with pytest.raises(ValueError):
        Period(kind, start, end)  # type: ignore[arg-type]


# -- parsing --------------------------------------------------------------------------------


def test_parse_period_reads_both_forms() -> None:
    assert parse_period("weekly", "2026-W47") == Period("weekly", date(2026, 11, 16), date(2026, 11, 23))
    assert parse_period("weekly", " 2026-w47 ").label == "2026-W47"
    assert parse_period("monthly", "2026-11") == Period("monthly", date(2026, 11, 1), date(2026, 12, 1))
    assert parse_period("monthly", "1970-01").label == "1970-01"


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("weekly", "2027-W53"),  # 2027 starts on a Friday: only 52 ISO weeks
        ("weekly", "2026-W00"),
        ("weekly", "2026-W54"),
        ("weekly", "2026-W5"),
        ("weekly", "2026-11"),
        ("weekly", "W47"),
        ("monthly", "2026-13"),
        ("monthly", "2026-00"),
        ("monthly", "2026-1"),
        ("monthly", "26-11"),
        ("monthly", "2026-W47"),
        ("monthly", "000੩-01"),  # a Gurmukhi digit: int() reads it, a month label must not hold it
        ("monthly", "２０２６-１１"),  # full-width digits
        ("weekly", "２０２６-W４７"),
        ("monthly", ""),
        ("monthly", "2026-11-01"),
    ],
)
def test_parse_period_rejects_bad_text_with_a_catalog_error(kind: str, text: str) -> None:
    with pytest.raises(BotError) as caught:
        parse_period(kind, text)  # type: ignore[arg-type]
    assert caught.value.key == "periods.errors.bad_period"
    assert caught.value.params == {
        "value": text,
        "example": "2026-W47" if kind == "weekly" else "2026-11",
    }


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("monthly", "0000-01"),
        ("monthly", "0001-01"),  # crashed /sns-kpi set and the CLI (year 0 / OverflowError)
        ("monthly", "0999-01"),
        ("monthly", "1969-12"),
        ("monthly", "9999-12"),  # its end, 10000-01-01, is not a date
        ("weekly", "0001-W01"),
        ("weekly", "1969-W52"),
        ("weekly", "9999-W52"),  # ends in the year 10000
    ],
)
def test_periods_outside_1970_to_9999_are_refused_with_the_range(kind: str, text: str) -> None:
    with pytest.raises(BotError) as caught:
        parse_period(kind, text)  # type: ignore[arg-type]
    assert caught.value.key == "periods.errors.out_of_range"
    first, last = ("1970-W01", "9999-W51") if kind == "weekly" else ("1970-01", "9999-11")
    assert caught.value.params == {"value": text, "first": first, "last": last}


@pytest.mark.parametrize(
    ("kind", "text"),
    [("monthly", "1970-01"), ("monthly", "9999-11"), ("weekly", "1970-W01"), ("weekly", "9999-W51")],
)
def test_the_first_and_last_accepted_periods_work_everywhere_a_period_goes(kind: str, text: str) -> None:
    period = parse_period(kind, text)  # type: ignore[arg-type]
    assert period.label == text
    for zone in ("Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati"):
        start, end = period.bounds_utc(ZoneInfo(zone))
        assert start < end
    assert period.previous() < period
    if kind == "monthly":
        assert len(months_back(period, 13)) == 13
        assert same_month_last_year(period).start.year == period.start.year - 1


def test_parse_period_rejects_an_unknown_kind_as_a_bug() -> None:
    with pytest.raises(ValueError):
        parse_period("daily", "2026-11-01")  # type: ignore[arg-type]


# -- last finished period -------------------------------------------------------------------


def test_last_finished_week_on_monday_morning_in_tokyo() -> None:
    monday_9am = jst(2026, 11, 23, 9, 0)
    assert last_finished("weekly", monday_9am, TOKYO) == Period(
        "weekly", date(2026, 11, 16), date(2026, 11, 23)
    )
    # Monday 00:30 in Tokyo is still Sunday in UTC; the wall clock of `tz` decides.
    just_after_midnight = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
    assert last_finished("weekly", just_after_midnight, TOKYO).label == "2026-W47"
    assert last_finished("weekly", jst(2026, 11, 22, 23, 59), TOKYO).label == "2026-W46"


def test_last_finished_month() -> None:
    assert last_finished("monthly", jst(2026, 12, 1, 9, 0), TOKYO).label == "2026-11"
    assert last_finished("monthly", jst(2026, 11, 30, 23, 59), TOKYO).label == "2026-10"
    assert last_finished("monthly", jst(2027, 1, 4, 9, 0), TOKYO).label == "2026-12"


def test_last_finished_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        last_finished("weekly", datetime(2026, 11, 23, 9, 0), TOKYO)


# -- UTC bounds -----------------------------------------------------------------------------


def test_month_bounds_in_tokyo_are_utc_instants_of_local_midnight() -> None:
    start, end = parse_period("monthly", "2026-11").bounds_utc(TOKYO)
    assert start == datetime(2026, 10, 31, 15, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert start.tzinfo is UTC and end.tzinfo is UTC


def test_bounds_follow_dst_in_new_york() -> None:
    # DST began on Sunday 2026-03-08: that week has 167 hours, March has 743.
    week_start, week_end = parse_period("weekly", "2026-W10").bounds_utc(NEW_YORK)
    assert week_start == datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # EST, UTC-5
    assert week_end == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # EDT, UTC-4
    assert week_end - week_start == timedelta(hours=167)
    march_start, march_end = parse_period("monthly", "2026-03").bounds_utc(NEW_YORK)
    assert (march_start, march_end) == (
        datetime(2026, 3, 1, 5, 0, tzinfo=UTC),
        datetime(2026, 4, 1, 4, 0, tzinfo=UTC),
    )
    # DST ended on Sunday 2026-11-01: that week has 169 hours.
    start, end = week_of(date(2026, 11, 1)).bounds_utc(NEW_YORK)
    assert (start, end) == (datetime(2026, 10, 26, 4, 0, tzinfo=UTC), datetime(2026, 11, 2, 5, 0, tzinfo=UTC))


# -- pace -----------------------------------------------------------------------------------


def test_elapsed_share_of_a_month() -> None:
    november = parse_period("monthly", "2026-11")
    assert elapsed_share(november, jst(2026, 11, 16, 0, 0), TOKYO) == 0.5
    assert elapsed_share(november, jst(2026, 11, 1, 0, 0), TOKYO) == 0.0
    assert elapsed_share(november, jst(2026, 10, 20, 12, 0), TOKYO) == 0.0  # not begun
    assert elapsed_share(november, jst(2026, 12, 1, 0, 0), TOKYO) == 1.0
    assert elapsed_share(november, jst(2027, 2, 1, 0, 0), TOKYO) == 1.0  # long over


def test_elapsed_share_counts_real_hours_across_dst() -> None:
    march = parse_period("monthly", "2026-03")
    # 15 wall-clock days after the start, but one hour was skipped on 03-08.
    now = datetime(2026, 3, 16, 0, 0, tzinfo=NEW_YORK)
    assert elapsed_share(march, now, NEW_YORK) == pytest.approx(359 / 743)
