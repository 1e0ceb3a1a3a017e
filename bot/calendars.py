"""The company's calendars, from the config: working hours for reviews (reminders, escalations, time to
decide) and business days for the monthly schedule (pure; shared by every feature that counts time).

"MM-DD" days off recur every year; Japanese public holidays are days off when the config says so.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.config import Settings, WorkingHours
from bot.workdays import WorkCalendar


def _days_off(working_hours: WorkingHours) -> frozenset[tuple[int, int]]:
    return frozenset((int(day[:2]), int(day[3:5])) for day in working_hours.extra_days_off)


def working_hours_calendar(working_hours: WorkingHours, tz: ZoneInfo) -> WorkCalendar:
    """Working hours on business days: what review reminders, escalations and time-to-decide count."""
    return WorkCalendar(
        tz=tz,
        start=working_hours.start,
        end=working_hours.end,
        weekdays=frozenset(working_hours.weekdays),
        country="JP" if working_hours.japanese_holidays else None,
        annual_days_off=_days_off(working_hours),
    )


def business_days(settings: Settings) -> WorkCalendar:
    """Whole business days (working weekdays, no holidays or company days off), e.g. for the monthly
    digest's "first business day"."""
    hours = settings.review.working_hours
    return WorkCalendar(
        tz=settings.tz,
        weekdays=frozenset(hours.weekdays),
        country="JP" if hours.japanese_holidays else None,
        annual_days_off=_days_off(hours),
    )
