"""When the mid-month pace alert is due: the first business day on or after ``[pace] day``, from
``[pace] at`` on, or, when the bot was down for all of that day's working hours, on one of the
``[pace] catch_up_days`` business days after it; and how many business days are left in the month
(pure: no clock, no I/O)."""

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


def catch_up_days(calendar: WorkCalendar, alert: date, month: Period, *, days: int) -> list[date]:
    """The ``days`` business days after ``alert`` in its month (a catch-up never crosses into the next
    month: by then the alert would be about a month already over)."""
    found: list[date] = []
    day = alert
    while len(found) < days:
        day = calendar.next_business_day(day + timedelta(days=1))
        if day >= month.end:
            break
        found.append(day)
    return found


def due_month(
    calendar: WorkCalendar, now: datetime, *, tz: ZoneInfo, day: int, at: time, catch_up: int = 0
) -> Period | None:
    """The month whose alert is due at ``now``: today is its alert day and ``at`` has come, or today
    is one of the ``catch_up`` business days after it (the check of a month runs once: a month
    whose alert day passed with the bot running is claimed already, so this only catches up)."""
    local = now.astimezone(tz)
    month = month_of(local.date())
    alert = alert_day(calendar, month, day=day)
    if alert is None:
        return None
    if alert == local.date():
        return month if local.time() >= at else None
    if local.date() in catch_up_days(calendar, alert, month, days=catch_up):
        return month
    return None


def remaining_business_days(calendar: WorkCalendar, today: date, month: Period) -> int:
    """Business days from ``today`` (included) to the month's end."""
    count, day = 0, max(today, month.start)
    while day < month.end:
        count += calendar.is_business_day(day)
        day += timedelta(days=1)
    return count
