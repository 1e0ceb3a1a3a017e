"""The Japanese business calendar: holidays (checked against the holidays package), working hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.workdays import WorkCalendar

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
JP = WorkCalendar(tz=TOKYO)
#: The usual company New Year break: 12/29 through 1/3, every year.
NEW_YEAR_BREAK = frozenset({(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)})


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# -- days -----------------------------------------------------------------------------------


def test_golden_week_2026() -> None:
    # 4/29 Wed Showa Day; 5/3 Sun, 5/4 Mon, 5/5 Tue; 5/6 Wed substitute holiday for 5/3.
    business = {day: JP.is_business_day(day) for day in days(date(2026, 4, 28), date(2026, 5, 7))}
    assert business == {
        date(2026, 4, 28): True,
        date(2026, 4, 29): False,
        date(2026, 4, 30): True,
        date(2026, 5, 1): True,  # a plain Friday
        date(2026, 5, 2): False,
        date(2026, 5, 3): False,
        date(2026, 5, 4): False,
        date(2026, 5, 5): False,
        date(2026, 5, 6): False,
        date(2026, 5, 7): True,
    }
    assert JP.first_business_day(2026, 5) == date(2026, 5, 1)
    assert JP.next_business_day(date(2026, 5, 2)) == date(2026, 5, 7)


def test_silver_week_2026() -> None:
    # 9/21 Mon Respect for the Aged Day, 9/22 Tue a "citizens' holiday" between two holidays, 9/23 Wed equinox.
    assert [JP.is_business_day(day) for day in days(date(2026, 9, 18), date(2026, 9, 24))] == [
        True, False, False, False, False, False, True,
    ]  # fmt: skip


def test_new_year_2027_without_and_with_company_days_off() -> None:
    # 2027-01-01 is a Friday (holiday), 01-02/03 a weekend: Monday the 4th either way.
    assert JP.first_business_day(2027, 1) == date(2027, 1, 4)
    closed = WorkCalendar(tz=TOKYO, annual_days_off=NEW_YEAR_BREAK)
    assert closed.first_business_day(2027, 1) == date(2027, 1, 4)
    assert not closed.is_business_day(date(2026, 12, 29))  # a Tuesday, closed by the company
    assert JP.is_business_day(date(2026, 12, 29))


def test_new_year_2026_where_company_days_off_matter() -> None:
    # 2026-01-01 is a Thursday: Jan 2 (Fri) is not a public holiday, but companies close.
    assert JP.first_business_day(2026, 1) == date(2026, 1, 2)
    assert WorkCalendar(tz=TOKYO, annual_days_off=NEW_YEAR_BREAK).first_business_day(2026, 1) == date(
        2026, 1, 5
    )
    one_off = WorkCalendar(tz=TOKYO, extra_holidays=frozenset({date(2026, 1, 2)}))
    assert one_off.first_business_day(2026, 1) == date(2026, 1, 5)
    assert one_off.first_business_day(2027, 1) == date(2027, 1, 4)


def test_no_country_means_weekdays_only() -> None:
    plain = WorkCalendar(tz=TOKYO, country=None)
    assert plain.is_business_day(date(2026, 4, 29))
    assert plain.first_business_day(2026, 11) == date(2026, 11, 2)


def test_loaded_holidays_are_answered_from_memory() -> None:
    """The running bot loads this year's and next year's holidays in a thread before its
    scheduler asks; asking afterwards computes nothing."""
    from bot import workdays

    cal = WorkCalendar(tz=TOKYO)
    cal.load_holidays(2031, 2032)
    before = workdays._public_holidays.cache_info()
    assert not cal.is_business_day(date(2031, 1, 1))  # 元日
    assert not cal.is_business_day(date(2032, 5, 5))  # こどもの日
    after = workdays._public_holidays.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (2, 0)
    WorkCalendar(tz=TOKYO, country=None).load_holidays(2033)  # no country: nothing to load
    assert workdays._public_holidays.cache_info().misses == after.misses


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": time(18), "end": time(9)},
        {"start": time(9), "end": time(9)},
        {"weekdays": frozenset()},
        {"weekdays": frozenset({7})},
        {"start": time(9, tzinfo=UTC)},
    ],
)
def test_bad_calendars_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WorkCalendar(tz=TOKYO, **kwargs)  # type: ignore[arg-type]


def test_a_calendar_without_any_business_day_fails_instead_of_looping() -> None:
    never = WorkCalendar(
        tz=TOKYO, annual_days_off=frozenset((m, d) for m in range(1, 13) for d in range(1, 32))
    )
    with pytest.raises(ValueError):
        never.first_business_day(2026, 5)


# -- hours ----------------------------------------------------------------------------------


def test_next_opening() -> None:
    inside = jst(2026, 11, 18, 10, 30)
    assert JP.next_opening(inside) == inside
    assert JP.next_opening(inside).tzinfo is UTC
    assert JP.next_opening(jst(2026, 11, 18, 7, 0)) == jst(2026, 11, 18, 9, 0)
    assert JP.next_opening(jst(2026, 11, 18, 18, 0)) == jst(2026, 11, 19, 9, 0)  # closing is outside
    assert JP.next_opening(jst(2026, 11, 20, 19, 0)) == jst(
        2026, 11, 24, 9, 0
    )  # weekend + Labor Thanksgiving
    # 2026-11-20 23:30 UTC is already Saturday in Tokyo.
    assert JP.next_opening(datetime(2026, 11, 20, 23, 30, tzinfo=UTC)) == jst(2026, 11, 24, 9, 0)


def test_business_hours_between_across_a_weekend() -> None:
    # Thu 17:30 → Mon 10:15: 0.5 h + a full Friday (9 h) + 1.25 h.
    assert JP.business_hours_between(jst(2026, 11, 12, 17, 30), jst(2026, 11, 16, 10, 15)) == 10.75


def test_business_hours_between_across_a_weekend_and_a_holiday() -> None:
    # Fri 15:00 → Tue 11:00, Monday 2026-11-23 being Labor Thanksgiving Day: 3 h + 2 h.
    assert JP.business_hours_between(jst(2026, 11, 20, 15, 0), jst(2026, 11, 24, 11, 0)) == 5.0
    # Golden Week: Thu 4/30 12:00 → Thu 5/7 12:00 = 6 + 9 (Fri 5/1) + 3.
    assert JP.business_hours_between(jst(2026, 4, 30, 12, 0), jst(2026, 5, 7, 12, 0)) == 18.0


def test_business_hours_between_edge_cases() -> None:
    assert JP.business_hours_between(jst(2026, 11, 21, 10, 0), jst(2026, 11, 22, 17, 0)) == 0.0  # weekend
    assert JP.business_hours_between(jst(2026, 11, 18, 12, 0), jst(2026, 11, 18, 11, 0)) == 0.0  # reversed
    assert JP.business_hours_between(jst(2026, 11, 18, 6, 0), jst(2026, 11, 18, 23, 0)) == 9.0
    # The same instants given in another zone give the same answer.
    start = jst(2026, 11, 18, 9, 0).astimezone(NEW_YORK)
    assert JP.business_hours_between(start, jst(2026, 11, 18, 9, 45)) == 0.75


def test_add_business_hours_from_friday_evening() -> None:
    # Fri 17:00 + 24 h: 1 h Friday, 9 h Monday, 9 h Tuesday, 5 h Wednesday → Wed 14:00 JST.
    due = JP.add_business_hours(jst(2026, 11, 13, 17, 0), 24)
    assert due == datetime(2026, 11, 18, 5, 0, tzinfo=UTC)
    assert due.tzinfo is UTC
    # The week after, Monday is a holiday: the same 24 h end on Thursday.
    assert JP.add_business_hours(jst(2026, 11, 20, 17, 0), 24) == jst(2026, 11, 26, 14, 0)


def test_add_business_hours_outside_hours_and_at_the_edges() -> None:
    assert JP.add_business_hours(jst(2026, 11, 14, 12, 0), 2) == jst(2026, 11, 16, 11, 0)  # Saturday
    assert JP.add_business_hours(jst(2026, 11, 13, 9, 0), 9) == jst(2026, 11, 13, 18, 0)  # ends at closing
    assert JP.add_business_hours(jst(2026, 11, 13, 20, 0), 0) == jst(2026, 11, 16, 9, 0)
    assert JP.add_business_hours(jst(2026, 11, 18, 9, 0), 1.5) == jst(2026, 11, 18, 10, 30)
    with pytest.raises(ValueError):
        JP.add_business_hours(jst(2026, 11, 18, 9, 0), -1)


@pytest.mark.parametrize("hours", [0.25, 8, 9, 24, 72, 100.5])
def test_add_and_between_agree(hours: float) -> None:
    start = jst(2026, 4, 28, 16, 20)  # runs into Golden Week
    assert JP.business_hours_between(start, JP.add_business_hours(start, hours)) == pytest.approx(hours)


def test_hours_are_real_hours_on_a_dst_day() -> None:
    # New York, DST starting Sunday 2026-03-08; working hours are read on the local clock.
    us = WorkCalendar(tz=NEW_YORK, country=None)
    friday = datetime(2026, 3, 6, 17, 0, tzinfo=NEW_YORK)
    monday = datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK)
    assert us.business_hours_between(friday, monday) == 2.0
    assert us.add_business_hours(friday, 2) == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # 10:00 EDT


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        JP.next_opening(datetime(2026, 11, 18, 10, 0))
    with pytest.raises(ValueError):
        JP.business_hours_between(datetime(2026, 11, 18, 10, 0), jst(2026, 11, 19, 10, 0))


# -- monthly run ----------------------------------------------------------------------------


def test_next_first_business_day_run() -> None:
    nine = time(9, 0)
    # Mid-December → Monday 2027-01-04 09:00 JST, which is 00:00 UTC.
    run = JP.next_first_business_day_run(jst(2026, 12, 15, 12, 0), nine)
    assert run == datetime(2027, 1, 4, 0, 0, tzinfo=UTC)
    assert run.tzinfo is UTC
    # 2026-12-01 is a Tuesday: a minute before the run it is still ahead; at the run it is not.
    assert JP.next_first_business_day_run(jst(2026, 12, 1, 8, 59), nine) == jst(2026, 12, 1, 9, 0)
    assert JP.next_first_business_day_run(jst(2026, 12, 1, 9, 0), nine) == jst(2027, 1, 4, 9, 0)
    # Golden Week month: May 1 is a Friday; June 1 is a Monday.
    assert JP.next_first_business_day_run(jst(2026, 4, 30, 18, 0), nine) == jst(2026, 5, 1, 9, 0)
    assert JP.next_first_business_day_run(jst(2026, 5, 1, 9, 30), nine) == jst(2026, 6, 1, 9, 0)
    # November 2026 starts on a Sunday: Monday the 2nd.
    assert JP.next_first_business_day_run(jst(2026, 10, 2, 0, 0), nine) == jst(2026, 11, 2, 9, 0)


def test_next_first_business_day_run_with_company_new_year_break() -> None:
    closed = WorkCalendar(tz=TOKYO, annual_days_off=NEW_YEAR_BREAK)
    assert closed.next_first_business_day_run(jst(2025, 12, 2, 0, 0), time(9)) == jst(2026, 1, 5, 9, 0)
    with pytest.raises(ValueError):
        closed.next_first_business_day_run(jst(2025, 12, 2, 0, 0), time(9, tzinfo=UTC))
