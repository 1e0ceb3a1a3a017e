"""ISO weeks and calendar months as half-open ranges of local dates, and their UTC bounds (pure).

A period is a range of *local* dates ``[start, end)`` in the configured time zone; its
instants are computed from local midnights only when asked (``bounds_utc``), so a period
stays correct across DST changes and can be stored, compared and labelled without a zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.errors import BotError


class PeriodKind(StrEnum):
    """A week or a month; the value is what ``digest_run.kind`` stores and the CLI takes."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"


# ASCII digits only: ``\d`` would also take "੩" or "３" (and int() reads them).
_WEEK_RE = re.compile(r"([0-9]{4})-[Ww]([0-9]{2})")
_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})")
#: What a well-formed period looks like, shown back to a person who typed a bad one.
_EXAMPLES: dict[str, str] = {"weekly": "2026-W47", "monthly": "2026-11"}
#: The years a typed period may fall in. Before 1970 nothing can have been posted (and local
#: midnights of year 1 fall outside ``datetime``); the last week and month of 9999 are refused
#: too, because their end (a day of the year 10000) is not a ``date``.
FIRST_YEAR, LAST_YEAR = 1970, 9999


def _add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """An ISO week (Monday to Sunday) or a calendar month: local dates ``start`` ≤ d < ``end``.

    Build one with ``week_of``, ``month_of`` or ``parse_period``; the constructor only
    checks that the dates form a whole week or month.
    """

    kind: PeriodKind
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.kind == PeriodKind.WEEKLY:
            ok = self.start.weekday() == 0 and self.end == self.start + timedelta(days=7)
        elif self.kind == PeriodKind.MONTHLY:
            ok = self.start.day == 1 and self.end == _add_months(self.start, 1)
        else:
            raise ValueError(f"unknown period kind {self.kind!r}")
        if not ok:
            raise ValueError(f"{self.start}..{self.end} is not a whole {self.kind} period")

    @property
    def label(self) -> str:
        """``2026-W47`` (ISO week-numbering year, which may differ from ``start.year``) or ``2026-11``."""
        if self.kind == PeriodKind.WEEKLY:
            iso = self.start.isocalendar()
            return f"{iso.year:04d}-W{iso.week:02d}"
        return f"{self.start.year:04d}-{self.start.month:02d}"

    def bounds_utc(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """Aware UTC instants of local midnight at ``start`` and at ``end`` in ``tz``.

        Each bound is converted on its own date rather than ``start + n days``, so a week
        that contains a DST change is 167 or 169 hours long, as it is on the wall clock.
        """
        return _local_midnight(self.start, tz), _local_midnight(self.end, tz)

    def previous(self) -> Period:
        if self.kind == PeriodKind.WEEKLY:
            return week_of(self.start - timedelta(days=7))
        return month_of(_add_months(self.start, -1))

    def next(self) -> Period:
        return week_of(self.end) if self.kind == PeriodKind.WEEKLY else month_of(self.end)

    def __str__(self) -> str:
        return self.label


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    # NOTE: where midnight falls in a DST gap (e.g. America/Santiago), fold=0 maps it onto the
    # transition instant itself, which is exactly when that local day begins.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime")


def week_of(day: date) -> Period:
    """The ISO week (Monday start) that contains ``day``."""
    monday = day - timedelta(days=day.weekday())
    return Period(PeriodKind.WEEKLY, monday, monday + timedelta(days=7))


def month_of(day: date) -> Period:
    """The calendar month that contains ``day``."""
    first = day.replace(day=1)
    return Period(PeriodKind.MONTHLY, first, _add_months(first, 1))


def period_of(kind: PeriodKind, day: date) -> Period:
    """The week or month (by ``kind``) that contains ``day``."""
    if kind == PeriodKind.WEEKLY:
        return week_of(day)
    if kind == PeriodKind.MONTHLY:
        return month_of(day)
    raise ValueError(f"unknown period kind {kind!r}")


def period_range(kind: PeriodKind) -> tuple[Period, Period]:
    """The first and the last period of ``kind`` that :func:`parse_period` accepts."""
    if kind == PeriodKind.WEEKLY:
        return week_of(date(FIRST_YEAR, 1, 4)), week_of(date(LAST_YEAR, 12, 31) - timedelta(days=7))
    return month_of(date(FIRST_YEAR, 1, 1)), month_of(date(LAST_YEAR, 11, 1))


def parse_period(kind: PeriodKind, text: str) -> Period:
    """Read ``2026-W47`` (weekly) or ``2026-11`` (monthly), as typed on the command line.

    Raises:
        BotError: ``periods.errors.bad_period`` (params ``value``, ``example``) when the text is
            not a period of that kind, including week 53 of a year that has only 52 ISO weeks;
            ``periods.errors.out_of_range`` (params ``value``, ``first``, ``last``) when it is one,
            but outside :func:`period_range` (years 1970 to 9999).
    """
    if kind not in _EXAMPLES:
        raise ValueError(f"unknown period kind {kind!r}")
    value = text.strip()
    year, number = _period_numbers(kind, value)
    if year is None or number is None:
        raise BotError("periods.errors.bad_period", value=text, example=_EXAMPLES[kind])
    first, last = period_range(kind)
    out_of_range = BotError("periods.errors.out_of_range", value=text, first=first.label, last=last.label)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise out_of_range
    try:
        # fromisocalendar rejects W00, W54+ and W53 of a 52-week year.
        start = date.fromisocalendar(year, number, 1) if kind == PeriodKind.WEEKLY else date(year, number, 1)
    except ValueError:
        raise BotError("periods.errors.bad_period", value=text, example=_EXAMPLES[kind]) from None
    if not first.start <= start <= last.start:
        raise out_of_range
    return period_of(kind, start)


def _period_numbers(kind: PeriodKind, value: str) -> tuple[int | None, int | None]:
    """(year, week or month) of a well-formed label, else (None, None)."""
    match = (_WEEK_RE if kind == PeriodKind.WEEKLY else _MONTH_RE).fullmatch(value)
    if match is None:
        return None, None
    return int(match[1]), int(match[2])


def last_finished(kind: PeriodKind, now: datetime, tz: ZoneInfo) -> Period:
    """The latest week or month that had fully ended at ``now`` on the wall clock of ``tz``.

    On Monday 2026-11-23 09:00 JST the weekly answer is 2026-W47 (11-16..11-22), and the
    monthly one is 2026-10.
    """
    _require_aware(now)
    return period_of(kind, now.astimezone(tz).date()).previous()


def months_back(month: Period, n: int) -> list[Period]:
    """The ``n`` months ending with ``month``, oldest first (``n=12`` gives a year of history)."""
    if month.kind != PeriodKind.MONTHLY:
        raise ValueError("months_back needs a monthly period")
    if n < 0:
        raise ValueError("n must not be negative")
    return [month_of(_add_months(month.start, -offset)) for offset in range(n - 1, -1, -1)]


def same_month_last_year(month: Period) -> Period:
    """The same calendar month one year earlier (for year-over-year change)."""
    if month.kind != PeriodKind.MONTHLY:
        raise ValueError("same_month_last_year needs a monthly period")
    return month_of(_add_months(month.start, -12))


def elapsed_share(period: Period, now: datetime, tz: ZoneInfo) -> float:
    """How much of ``period`` has passed at ``now``, from 0.0 (not begun) to 1.0 (over).

    Measured in real elapsed time between the period's UTC bounds, so the pace of a month
    with a DST change is not skewed by the missing or repeated hour.
    """
    _require_aware(now)
    start, end = period.bounds_utc(tz)
    share = (now - start) / (end - start)
    return min(1.0, max(0.0, share))
