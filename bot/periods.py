"""ISO weeks, calendar months and fiscal quarters, halves and years as half-open ranges of local
dates, their UTC bounds and labels (pure).

A period is a range of *local* dates ``[start, end)`` in the configured time zone; its
instants are computed from local midnights only when asked (``bounds_utc``), so a period
stays correct across DST changes and can be stored, compared and labelled without a zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.errors import BotError
from bot.i18n import Translator


class PeriodKind(StrEnum):
    """A week, a month or a fiscal quarter; the value is what ``digest_run.kind`` stores and the CLI takes."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


#: The month a fiscal year starts in when the config does not say: April, as at most Japanese
#: companies and the Japanese government (「年度」).
DEFAULT_FISCAL_YEAR_START = 4


# ASCII digits only: ``\d`` would also take "੩" or "３" (and int() reads them).
_WEEK_RE = re.compile(r"([0-9]{4})-[Ww]([0-9]{2})")
_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})")
_QUARTER_RE = re.compile(r"([0-9]{4})-[Qq]([0-9])")
#: What a well-formed period looks like, shown back to a person who typed a bad one.
_EXAMPLES: dict[str, str] = {"weekly": "2026-W47", "monthly": "2026-11", "quarterly": "2026-Q3"}
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
    """An ISO week (Monday to Sunday), a calendar month or a fiscal quarter: local dates
    ``start`` ≤ d < ``end``.

    Build one with ``week_of``, ``month_of``, ``quarter_of`` or ``parse_period``; the constructor
    only checks that the dates form a whole week, month or quarter. ``fiscal_start`` (the month
    the fiscal year starts in) only names a quarter: ``2026-Q3`` is October to December 2026 when
    the year starts in April, July to September when it starts in January.
    """

    kind: PeriodKind
    start: date
    end: date
    fiscal_start: int = field(default=1, compare=False)

    def __post_init__(self) -> None:
        if self.kind == PeriodKind.WEEKLY:
            ok = self.start.weekday() == 0 and self.end == self.start + timedelta(days=7)
        elif self.kind == PeriodKind.MONTHLY:
            ok = self.start.day == 1 and self.end == _add_months(self.start, 1)
        elif self.kind == PeriodKind.QUARTERLY:
            ok = (
                1 <= self.fiscal_start <= 12
                and self.start.day == 1
                and (self.start.month - self.fiscal_start) % 3 == 0
                and self.end == _add_months(self.start, 3)
            )
        else:
            raise ValueError(f"unknown period kind {self.kind!r}")
        if not ok:
            raise ValueError(f"{self.start}..{self.end} is not a whole {self.kind} period")

    @property
    def label(self) -> str:
        """``2026-W47`` (ISO week-numbering year, which may differ from ``start.year``), ``2026-11``
        or ``2026-Q3`` (fiscal year and quarter)."""
        if self.kind == PeriodKind.WEEKLY:
            iso = self.start.isocalendar()
            return f"{iso.year:04d}-W{iso.week:02d}"
        if self.kind == PeriodKind.QUARTERLY:
            span = FiscalSpan.of_quarter(self)
            return f"{span.fiscal_year:04d}-Q{span.number}"
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
        if self.kind == PeriodKind.QUARTERLY:
            return quarter_of(_add_months(self.start, -3), self.fiscal_start)
        return month_of(_add_months(self.start, -1))

    def next(self) -> Period:
        if self.kind == PeriodKind.QUARTERLY:
            return quarter_of(self.end, self.fiscal_start)
        return week_of(self.end) if self.kind == PeriodKind.WEEKLY else month_of(self.end)

    def months(self) -> list[Period]:
        """The calendar months of a month or a quarter, oldest first."""
        if self.kind == PeriodKind.WEEKLY:
            raise ValueError("a week is not made of months")
        return _months_between(self.start, self.end)

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


def quarter_of(day: date, fiscal_start: int = 1) -> Period:
    """The fiscal quarter that contains ``day`` in a fiscal year starting in month ``fiscal_start``."""
    return fiscal_span(FiscalKind.QUARTER, day, fiscal_start).as_period()


def period_of(kind: PeriodKind, day: date, *, fiscal_start: int = 1) -> Period:
    """The week, month or fiscal quarter (by ``kind``) that contains ``day``."""
    if kind == PeriodKind.WEEKLY:
        return week_of(day)
    if kind == PeriodKind.MONTHLY:
        return month_of(day)
    if kind == PeriodKind.QUARTERLY:
        return quarter_of(day, fiscal_start)
    raise ValueError(f"unknown period kind {kind!r}")


def period_range(kind: PeriodKind, *, fiscal_start: int = 1) -> tuple[Period, Period]:
    """The first and the last period of ``kind`` that :func:`parse_period` accepts."""
    if kind == PeriodKind.WEEKLY:
        return week_of(date(FIRST_YEAR, 1, 4)), week_of(date(LAST_YEAR, 12, 31) - timedelta(days=7))
    if kind == PeriodKind.QUARTERLY:
        first = quarter_of(date(FIRST_YEAR, 1, 1), fiscal_start)
        if first.start.year < FIRST_YEAR:
            first = first.next()
        return first, quarter_of(date(LAST_YEAR, 7, 1), fiscal_start)
    return month_of(date(FIRST_YEAR, 1, 1)), month_of(date(LAST_YEAR, 11, 1))


def parse_period(kind: PeriodKind, text: str, *, fiscal_start: int = 1) -> Period:
    """Read ``2026-W47`` (weekly), ``2026-11`` (monthly) or ``2026-Q3`` (fiscal year and quarter,
    in a fiscal year starting in month ``fiscal_start``), as typed on the command line.

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
    first, last = period_range(kind, fiscal_start=fiscal_start)
    out_of_range = BotError("periods.errors.out_of_range", value=text, first=first.label, last=last.label)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise out_of_range
    try:
        # fromisocalendar rejects W00, W54+ and W53 of a 52-week year.
        if kind == PeriodKind.WEEKLY:
            start = date.fromisocalendar(year, number, 1)
        elif kind == PeriodKind.QUARTERLY:
            if not 1 <= number <= 4:
                raise ValueError("no such quarter")
            start = _add_months(date(year, fiscal_start, 1), (number - 1) * 3)
        else:
            start = date(year, number, 1)
    except ValueError:
        raise BotError("periods.errors.bad_period", value=text, example=_EXAMPLES[kind]) from None
    if not first.start <= start <= last.start:
        raise out_of_range
    return period_of(kind, start, fiscal_start=fiscal_start)


_PATTERNS = {PeriodKind.WEEKLY: _WEEK_RE, PeriodKind.MONTHLY: _MONTH_RE, PeriodKind.QUARTERLY: _QUARTER_RE}


def _period_numbers(kind: PeriodKind, value: str) -> tuple[int | None, int | None]:
    """(year, week, month or quarter) of a well-formed label, else (None, None)."""
    match = _PATTERNS[kind].fullmatch(value)
    if match is None:
        return None, None
    return int(match[1]), int(match[2])


def last_finished(kind: PeriodKind, now: datetime, tz: ZoneInfo, *, fiscal_start: int = 1) -> Period:
    """The latest week, month or quarter that had fully ended at ``now`` on the wall clock of ``tz``.

    On Monday 2026-11-23 09:00 JST the weekly answer is 2026-W47 (11-16..11-22), the monthly
    one 2026-10, and the quarterly one 2026-Q2 (July to September) in an April fiscal year.
    """
    _require_aware(now)
    return period_of(kind, now.astimezone(tz).date(), fiscal_start=fiscal_start).previous()


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


def elapsed_share(period: Period | FiscalSpan, now: datetime, tz: ZoneInfo) -> float:
    """How much of ``period`` has passed at ``now``, from 0.0 (not begun) to 1.0 (over).

    Measured in real elapsed time between the period's UTC bounds, so the pace of a month
    with a DST change is not skewed by the missing or repeated hour.
    """
    _require_aware(now)
    start, end = period.bounds_utc(tz)
    share = (now - start) / (end - start)
    return min(1.0, max(0.0, share))


# ---------------------------------------------------------------------------------------------
# Fiscal quarters, halves and years
# ---------------------------------------------------------------------------------------------


class FiscalKind(StrEnum):
    """A part of a fiscal year that KPIs roll up to."""

    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"


_SPAN_MONTHS = {FiscalKind.QUARTER: 3, FiscalKind.HALF: 6, FiscalKind.YEAR: 12}


def fiscal_year_of(day: date, fiscal_start: int) -> int:
    """The fiscal year that contains ``day``, named by the calendar year it starts in (as 「年度」:
    with an April start, 2027-02-10 is in fiscal 2026)."""
    if not 1 <= fiscal_start <= 12:
        raise ValueError("fiscal_start is a month, 1 to 12")
    return day.year if day.month >= fiscal_start else day.year - 1


def _months_between(start: date, end: date) -> list[Period]:
    months = []
    day = start.replace(day=1)
    while day < end:
        months.append(month_of(day))
        day = _add_months(day, 1)
    return months


@dataclass(frozen=True, slots=True)
class FiscalSpan:
    """A fiscal quarter (``number`` 1-4), half (1-2) or year (1) of ``fiscal_year``: local dates
    ``start`` ≤ d < ``end``."""

    kind: FiscalKind
    fiscal_year: int
    number: int
    start: date
    end: date
    fiscal_start: int

    @classmethod
    def of_quarter(cls, quarter: Period) -> FiscalSpan:
        """The span of a quarterly :class:`Period`."""
        if quarter.kind != PeriodKind.QUARTERLY:
            raise ValueError("of_quarter needs a quarterly period")
        return fiscal_span(FiscalKind.QUARTER, quarter.start, quarter.fiscal_start)

    def as_period(self) -> Period:
        """A quarter as the :class:`Period` a digest is claimed and posted for."""
        if self.kind != FiscalKind.QUARTER:
            raise ValueError("only a quarter is a digest period")
        return Period(PeriodKind.QUARTERLY, self.start, self.end, self.fiscal_start)

    def months(self) -> list[Period]:
        """The span's calendar months, oldest first."""
        return _months_between(self.start, self.end)

    def bounds_utc(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return _local_midnight(self.start, tz), _local_midnight(self.end, tz)

    def previous(self) -> FiscalSpan:
        """The span of the same kind just before this one (the previous quarter, half or year)."""
        return fiscal_span(self.kind, _add_months(self.start, -1), self.fiscal_start)

    def year_before(self) -> FiscalSpan:
        """The same span one fiscal year earlier (year-over-year)."""
        return fiscal_span(self.kind, _add_months(self.start, -12), self.fiscal_start)


def fiscal_span(kind: FiscalKind, day: date, fiscal_start: int) -> FiscalSpan:
    """The fiscal quarter, half or year (by ``kind``) that contains ``day``."""
    year = fiscal_year_of(day, fiscal_start)
    year_start = date(year, fiscal_start, 1)
    offset = (day.year - year_start.year) * 12 + day.month - year_start.month  # 0 … 11
    size = _SPAN_MONTHS[kind]
    index = offset // size
    start = _add_months(year_start, index * size)
    return FiscalSpan(kind, year, index + 1, start, _add_months(start, size), fiscal_start)


def fiscal_spans(day: date, fiscal_start: int) -> tuple[FiscalSpan, FiscalSpan, FiscalSpan]:
    """The quarter, half and fiscal year that contain ``day``."""
    return (
        fiscal_span(FiscalKind.QUARTER, day, fiscal_start),
        fiscal_span(FiscalKind.HALF, day, fiscal_start),
        fiscal_span(FiscalKind.YEAR, day, fiscal_start),
    )


def _month_name(t: Translator, month: int) -> str:
    return t(f"periods.month_short.m{month}")


def fiscal_label(span: FiscalSpan, t: Translator) -> str:
    """``2026年度 第3四半期（10〜12月）`` / ``FY2026 Q3 (Oct–Dec)``, ``2026年度 上期（4〜9月）`` /
    ``FY2026 H1 (Apr–Sep)``, ``2026年度（2026年4月〜2027年3月）`` / ``FY2026 (Apr 2026–Mar 2027)``."""
    last = _add_months(span.end, -1)
    if span.kind == FiscalKind.YEAR:
        return t(
            "periods.fiscal.year",
            year=span.fiscal_year,
            first=_month_name(t, span.start.month),
            first_year=span.start.year,
            last=_month_name(t, last.month),
            last_year=last.year,
        )
    # A half that crosses the calendar year reads "10月–翌3月" in Japanese.
    wraps = last.month < span.start.month
    months = t(
        "periods.fiscal.months_wrap" if wraps else "periods.fiscal.months",
        first=_month_name(t, span.start.month),
        last=_month_name(t, last.month),
    )
    key = f"periods.fiscal.half{span.number}" if span.kind == FiscalKind.HALF else "periods.fiscal.quarter"
    return t(key, year=span.fiscal_year, number=span.number, months=months)


def quarter_label(quarter: Period, t: Translator) -> str:
    """A quarterly period's label for people (see :func:`fiscal_label`)."""
    return fiscal_label(FiscalSpan.of_quarter(quarter), t)
