"""The business calendar: working days and hours in a time zone, with Japanese public holidays (pure).

Review reminders count working hours, and the monthly digest runs on the first business day,
so both ask this module rather than counting wall-clock days. Public holidays come from the
``holidays`` package (loaded lazily, once per country and year); company days off such as
12/29-1/3 are configured on top, either as exact dates or as month/day pairs that recur yearly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

#: How far to look for the next business day before deciding the calendar has none
#: (a calendar whose every day is off is a configuration error, not an endless loop).
_MAX_SEARCH_DAYS = 400


@cache
def _public_holidays(country: str, year: int) -> frozenset[date]:
    import holidays  # deferred: building the holiday tables is not free and most processes need one year

    return frozenset(holidays.country_holidays(country, years=year).keys())


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime")


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Working days and daily working hours in ``tz``.

    Attributes:
        tz: the zone the working hours are read in.
        start: daily opening time (local).
        end: daily closing time (local); must be after ``start`` (no overnight shifts).
        weekdays: working weekdays, Monday = 0.
        country: ISO code for public holidays (``"JP"``), or ``None`` for none.
        extra_holidays: one-off company days off.
        annual_days_off: company days off that recur every year, as ``(month, day)``
            pairs, e.g. the New Year break ``(12, 29)`` … ``(1, 3)``.
    """

    tz: ZoneInfo
    start: time = time(9)
    end: time = time(18)
    weekdays: frozenset[int] = frozenset(range(5))
    country: str | None = "JP"
    extra_holidays: frozenset[date] = frozenset()
    annual_days_off: frozenset[tuple[int, int]] = frozenset()

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working hours are local times without tzinfo")
        if not self.start < self.end:
            raise ValueError("working hours must end after they start on the same day")
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            raise ValueError("weekdays must be a non-empty set of 0 (Monday) .. 6 (Sunday)")

    # -- days ---------------------------------------------------------------------------------

    def load_holidays(self, *years: int) -> None:
        """Load the public holidays of ``years`` now (blocking, ~0.2 s the first time: run it in a
        thread), so later questions about those years are answered from memory."""
        if self.country is not None:
            for year in years:
                _public_holidays(self.country, year)

    def is_business_day(self, day: date) -> bool:
        """Whether ``day`` is a working weekday that is neither a public holiday nor a day off."""
        if day.weekday() not in self.weekdays:
            return False
        if day in self.extra_holidays or (day.month, day.day) in self.annual_days_off:
            return False
        return self.country is None or day not in _public_holidays(self.country, day.year)

    def next_business_day(self, day: date) -> date:
        """``day`` itself when it is a business day, else the first business day after it."""
        for offset in range(_MAX_SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_business_day(candidate):
                return candidate
        raise ValueError(f"no business day within {_MAX_SEARCH_DAYS} days of {day}")

    def first_business_day(self, year: int, month: int) -> date:
        """The month's first business day, e.g. 2027-01-04 (Jan 1 is a holiday, Jan 2-3 a weekend)."""
        day = self.next_business_day(date(year, month, 1))
        if day.month != month:
            raise ValueError(f"{year}-{month:02d} has no business day")
        return day

    # -- hours --------------------------------------------------------------------------------

    def _window(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants of ``day``'s opening and closing (real length, even on a DST day)."""
        opening = datetime.combine(day, self.start, tzinfo=self.tz).astimezone(UTC)
        closing = datetime.combine(day, self.end, tzinfo=self.tz).astimezone(UTC)
        return opening, closing

    def next_opening(self, at: datetime) -> datetime:
        """``at`` (in UTC) when it falls inside working hours, else the next opening instant (UTC)."""
        _require_aware(at)
        at = at.astimezone(UTC)
        day = at.astimezone(self.tz).date()
        if self.is_business_day(day):
            opening, closing = self._window(day)
            if at < opening:
                return opening
            if at < closing:
                return at
        return self._window(self.next_business_day(day + timedelta(days=1)))[0]

    def business_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours that pass from ``start`` to ``end`` (0.0 when ``end`` is not later)."""
        _require_aware(start)
        _require_aware(end)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return 0.0
        total = timedelta()
        day, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        while day <= last:
            if self.is_business_day(day):
                opening, closing = self._window(day)
                overlap = min(closing, end) - max(opening, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total / timedelta(hours=1)

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The UTC instant at which ``hours`` working hours have passed since ``start``.

        A ``start`` outside working hours counts from the next opening. Time runs out at a
        closing if the hours end exactly there (Friday 09:00 + 9 h is Friday 18:00, not Monday).
        """
        if hours < 0:
            raise ValueError("hours must not be negative")
        remaining = timedelta(hours=hours)
        current = self.next_opening(start)
        while True:
            closing = self._window(current.astimezone(self.tz).date())[1]
            if remaining <= closing - current:
                return current + remaining
            remaining -= closing - current
            current = self.next_opening(closing)

    # -- schedules ----------------------------------------------------------------------------

    def next_first_business_day_run(self, after: datetime, at: time) -> datetime:
        """The first instant strictly after ``after`` that is local ``at`` on a month's first business day.

        The monthly digest's trigger: cron cannot say "first business day", so the scheduler
        asks this for each next fire time. Returned in UTC.
        """
        _require_aware(after)
        if at.tzinfo is not None:
            raise ValueError("`at` is a local time without tzinfo")
        local = after.astimezone(self.tz)
        year, month = local.year, local.month
        # The current month's run may still be ahead; otherwise next month's always is.
        for _ in range(2):
            day = self.first_business_day(year, month)
            run = datetime.combine(day, at, tzinfo=self.tz).astimezone(UTC)
            if run > after:
                return run
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise AssertionError("unreachable: next month's run is always after `after`")
