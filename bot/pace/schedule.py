"""When the mid-month pace alert is due: the first business day on or after ``[pace] day``, from
``[pace] at`` on, and how many business days are left in the month (pure: no clock, no I/O)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.periods import Period, month_of
from bot.workdays import WorkCalendar


def alert_day(calendar: WorkCalendar, month: Period, *, day: int) -> date | None:
    """The month's alert day: its first business day on or after ``day`` (``None``: none left)."""
    try:
        found = calendar.next_business_day(date(month.start.year, month.start.month, day))
    except ValueError:
        return None
    return found if found < month.end else None


def due_month(calendar: WorkCalendar, now: datetime, *, tz: ZoneInfo, day: int, at: time) -> Period | None:
    """The month whose alert is due at ``now``: today is its alert day and ``at`` has come."""
    local = now.astimezone(tz)
    month = month_of(local.date())
    if alert_day(calendar, month, day=day) != local.date() or local.time() < at:
        return None
    return month


def remaining_business_days(calendar: WorkCalendar, today: date, month: Period) -> int:
    """Business days from ``today`` (included) to the month's end."""
    count, day = 0, max(today, month.start)
    while day < month.end:
        count += calendar.is_business_day(day)
        day += timedelta(days=1)
    return count
