"""Digest schedules: first Japanese business day across Golden Week and New Year, cron overrides,
and the previous fire time used by catch-up and the sweep."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.calendars import business_days
from bot.digest.schedule import FirstBusinessDayTrigger, next_weekly_digest, previous_fire_time, trigger_for
from bot.i18n import translator
from bot.periods import PeriodKind
from tests.conftest import make_settings

TOKYO = ZoneInfo("Asia/Tokyo")


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


def fire_times(trigger: Any, start: datetime, count: int) -> list[str]:
    out: list[str] = []
    previous = None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        out.append(fire.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M %a"))
        previous = now = fire
    return out


def test_monthly_default_is_first_business_day_at_nine_across_new_year_and_golden_week() -> None:
    trigger = trigger_for(make_settings(), PeriodKind.MONTHLY)
    assert isinstance(trigger, FirstBusinessDayTrigger)
    assert fire_times(trigger, jst(2026, 12, 1, 9, 30), 6) == [
        "2027-01-04 09:00 Mon",  # Jan 1 holiday (Fri), Jan 2-3 weekend
        "2027-02-01 09:00 Mon",
        "2027-03-01 09:00 Mon",
        "2027-04-01 09:00 Thu",
        "2027-05-06 09:00 Thu",  # May 1-2 weekend, 3-5 Golden Week holidays
        "2027-06-01 09:00 Tue",
    ]
    # 2026: Jan 1 (Thu) is a holiday, Jan 2 (Fri) a business day; Golden Week leaves May 1 (Fri) working.
    assert fire_times(trigger, jst(2025, 12, 15), 1) == ["2026-01-02 09:00 Fri"]
    assert fire_times(trigger, jst(2026, 4, 20), 1) == ["2026-05-01 09:00 Fri"]


def test_company_new_year_break_moves_the_monthly_digest() -> None:
    settings = make_settings(
        change=lambda raw: raw["review"].update(
            working_hours={"extra_days_off": ["12-29", "12-30", "12-31", "01-02", "01-03"]}
        )
    )
    assert fire_times(trigger_for(settings, PeriodKind.MONTHLY), jst(2025, 12, 15), 1) == [
        "2026-01-05 09:00 Mon"
    ]


def test_the_trigger_fires_at_the_moment_itself_and_after_a_previous_run() -> None:
    trigger = FirstBusinessDayTrigger(business_days(make_settings()), time(9))
    assert trigger.get_next_fire_time(None, jst(2027, 1, 4, 9)) == jst(2027, 1, 4, 9)
    # A misfired run is still seen after the previous one (APScheduler then applies the grace time).
    assert trigger.get_next_fire_time(jst(2026, 12, 1, 9), jst(2027, 1, 5)) == jst(2027, 1, 4, 9)


def test_cron_overrides_and_weekly_default() -> None:
    settings = make_settings(change=lambda raw: raw["digest"]["monthly"].update(cron="30 8 2 * *"))
    monthly = trigger_for(settings, PeriodKind.MONTHLY)
    weekly = trigger_for(settings, PeriodKind.WEEKLY)
    assert isinstance(monthly, CronTrigger) and isinstance(weekly, CronTrigger)
    assert fire_times(monthly, jst(2027, 1, 1), 1) == ["2027-01-02 08:30 Sat"]
    assert fire_times(weekly, jst(2026, 11, 18, 10), 2) == ["2026-11-23 09:00 Mon", "2026-11-30 09:00 Mon"]


def test_previous_fire_time() -> None:
    settings = make_settings()
    weekly = trigger_for(settings, PeriodKind.WEEKLY)
    assert previous_fire_time(weekly, jst(2026, 11, 25, 12), TOKYO) == jst(2026, 11, 23, 9)
    assert previous_fire_time(weekly, jst(2026, 11, 23, 9), TOKYO) == jst(2026, 11, 23, 9)
    monthly = trigger_for(settings, PeriodKind.MONTHLY)
    assert previous_fire_time(monthly, jst(2027, 1, 3, 12), TOKYO) == jst(2026, 12, 1, 9)
    assert previous_fire_time(monthly, jst(2027, 5, 6, 8, 59), TOKYO) == jst(2027, 4, 1, 9)
    every_minute = CronTrigger.from_crontab("* * * * *", timezone=TOKYO)
    assert previous_fire_time(every_minute, jst(2026, 11, 25, 12, 0, 30), TOKYO) == jst(2026, 11, 25, 12)


def test_the_next_weekly_digest_is_named_in_the_nominators_language() -> None:
    settings = make_settings()
    now = datetime(2026, 12, 2, 10, tzinfo=ZoneInfo("Asia/Tokyo"))
    en = next_weekly_digest(settings, now, t=translator("en"))
    ja = next_weekly_digest(settings, now, t=translator("ja"))
    assert en.startswith("the weekly wins digest on 2026-12-")
    assert ja.endswith("の週次ハイライト") and ja.startswith("2026-12-")
