"""The alert day: the first business day on or after the configured day, Japanese holidays and
weekends skipped; due from the configured time on; business days left."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.calendars import business_days
from bot.pace.schedule import alert_day, catch_up_days, due_month, remaining_business_days
from bot.periods import month_of
from tests.conftest import make_settings

TOKYO = ZoneInfo("Asia/Tokyo")
CALENDAR = business_days(make_settings())


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO).astimezone(UTC)


def test_alert_days() -> None:
    assert alert_day(CALENDAR, month_of(date(2026, 10, 1)), day=15) == date(2026, 10, 15)  # a Thursday
    assert alert_day(CALENDAR, month_of(date(2026, 11, 1)), day=15) == date(2026, 11, 16)  # 15th: Sunday
    # 2025-09-15 is Respect for the Aged Day (a Monday): the next day.
    assert alert_day(CALENDAR, month_of(date(2025, 9, 1)), day=15) == date(2025, 9, 16)


def test_due_only_on_the_alert_day_from_the_time_on() -> None:
    at = time(10)
    assert due_month(CALENDAR, jst(2025, 9, 16, 10), tz=TOKYO, day=15, at=at) == month_of(date(2025, 9, 1))
    assert due_month(CALENDAR, jst(2025, 9, 16, 17, 30), tz=TOKYO, day=15, at=at) is not None
    assert due_month(CALENDAR, jst(2025, 9, 16, 9, 59), tz=TOKYO, day=15, at=at) is None
    assert due_month(CALENDAR, jst(2025, 9, 15, 10), tz=TOKYO, day=15, at=at) is None  # the holiday
    assert due_month(CALENDAR, jst(2025, 9, 17, 10), tz=TOKYO, day=15, at=at) is None  # the day after


def test_business_days_left() -> None:
    # 2026-11-16 (Mon) to 11-30: 10 business days (11-23 Labour Thanksgiving Day is a holiday).
    assert remaining_business_days(CALENDAR, date(2026, 11, 16), month_of(date(2026, 11, 1))) == 10


def test_catch_up_on_the_next_business_days_of_the_month_only() -> None:
    at, september = time(10), month_of(date(2025, 9, 1))
    # The alert day is Tuesday 09-16; the three business days after it are 09-17, 18 and 19.
    for moment in (jst(2025, 9, 17, 9), jst(2025, 9, 18, 15), jst(2025, 9, 19, 10)):
        assert due_month(CALENDAR, moment, tz=TOKYO, day=15, at=at, catch_up=3) == september
    assert due_month(CALENDAR, jst(2025, 9, 22, 10), tz=TOKYO, day=15, at=at, catch_up=3) is None
    assert due_month(CALENDAR, jst(2025, 9, 17, 10), tz=TOKYO, day=15, at=at, catch_up=0) is None
    assert due_month(CALENDAR, jst(2025, 9, 12, 10), tz=TOKYO, day=15, at=at, catch_up=3) is None  # before
    # Never into the next month: an alert day on the 28th catches up only within the month.
    # 2026-02-27 is a Friday: the alert day for day=27; the month ends on Saturday the 28th.
    assert catch_up_days(CALENDAR, date(2026, 2, 27), month_of(date(2026, 2, 1)), days=3) == []
    assert due_month(CALENDAR, jst(2026, 3, 2, 10), tz=TOKYO, day=27, at=at, catch_up=3) is None
