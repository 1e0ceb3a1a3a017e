"""Vectorised cell parsing for export columns: numbers, counts, ids and timestamps (pure, pandas).

Every parser takes a column of stripped strings and returns numpy arrays plus boolean masks
(missing / bad), so one call converts a whole chunk and the caller turns masks into row problems.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from bot.periods import period_range

Mask = npt.NDArray[np.bool_]

#: Cell values that mean "no data" in real exports (X promoted columns `-`, Meta `N/A`,
#: LinkedIn `NA`, TikTok `undefined`), compared case-insensitively.
MISSING_TOKENS: tuple[str, ...] = ("", "-", "--", "n/a", "na", "undefined", "null")

# Grouped digits: "1,234", "12,400.5", "1 234" (space, NBSP, narrow NBSP).
_COMMA_GROUPED = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"
_SPACE_GROUPED = r"^[+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:\.\d+)?$"
# "1.250" in a count column is a dot-grouped 1250 (a count cannot be 1.25); seen in a YouTube fixture.
_DOT_GROUPED = r"^[+-]?\d{1,3}(?:\.\d{3})+$"
_SEPARATORS = r"[, \u00a0\u202f]"
#: Counts must stay below 2**53 (every whole number below it is exact as a float).
MAX_COUNT = 2**53
#: pandas' marker for "parse this as ISO 8601 (date, date+time, with or without offset)".
ISO8601 = "ISO8601"


_MISSING_SPELLINGS = frozenset(
    spelling
    for token in MISSING_TOKENS
    for spelling in (token, token.upper(), token.title(), token.capitalize())
)


def missing_mask(values: pd.Series) -> Mask:
    """Cells meaning "no data" (a hash lookup: far cheaper than lower-casing every cell)."""
    mask: Mask = values.isin(_MISSING_SPELLINGS).to_numpy()
    return mask


@dataclass(frozen=True, slots=True)
class Numbers:
    """A parsed numeric column: ``values`` is NaN wherever ``missing`` or ``bad`` is set."""

    values: npt.NDArray[np.float64]
    missing: Mask
    bad: Mask


def parse_numbers(values: pd.Series, *, percent: bool = False, counts: bool = False) -> Numbers:
    """Parse a column of numbers written the way exports write them.

    Args:
        values: stripped cell strings.
        percent: accept a trailing ``%`` (the number is kept in percent units: ``3.2%`` → 3.2).
        counts: the column holds whole counts, so ``1.250`` is read as dot-grouped 1250.

    Returns:
        Floats with masks; ``bad`` marks non-empty cells that are not a finite number.
    """
    missing = missing_mask(values)
    if missing.all():
        return Numbers(np.full(len(values), np.nan), missing, np.zeros(len(values), dtype=bool))
    text = values.where(~missing, "")
    # Fast path: most cells are plain numbers; only the leftovers go through the regexes.
    try:
        # numpy's float conversion beats pd.to_numeric by ~1/3; any odd cell raises and we fall back.
        out = np.where(missing, "nan", values.to_numpy(dtype=object)).astype(np.float64)
    except ValueError:
        out = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, copy=True)
    leftovers = np.isnan(out) & ~missing
    if counts:
        leftovers |= _fractional(out)
    if leftovers.any():
        sub = text[leftovers]
        grouped = sub.str.match(_COMMA_GROUPED) | sub.str.match(_SPACE_GROUPED)
        cleaned = sub.where(~grouped, sub.str.replace(_SEPARATORS, "", regex=True))
        if counts:
            dotted = sub.str.match(_DOT_GROUPED)
            cleaned = cleaned.where(~dotted, sub.str.replace(".", "", regex=False))
        if percent:
            cleaned = cleaned.where(~cleaned.str.endswith("%"), cleaned.str[:-1].str.rstrip())
            regrouped = cleaned.str.match(_COMMA_GROUPED)
            cleaned = cleaned.where(~regrouped, cleaned.str.replace(",", "", regex=False))
        out[leftovers] = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~missing & ~np.isfinite(out)
    out[bad] = np.nan
    return Numbers(out, missing, bad)


def _fractional(floats: npt.NDArray[np.float64]) -> Mask:
    finite = np.isfinite(floats)
    out = np.zeros(len(floats), dtype=bool)
    out[finite] = floats[finite] != np.floor(floats[finite])
    return out


@dataclass(frozen=True, slots=True)
class Counts:
    """A parsed count column: the whole numbers where ``known``, plus what was wrong where."""

    ints: npt.NDArray[np.int64]
    known: Mask
    missing: Mask
    bad: Mask
    fractional: Mask
    negative: Mask

    @property
    def values(self) -> npt.NDArray[np.object_]:
        """Python ``int`` or ``None`` per row."""
        out = np.full(len(self.ints), None, dtype=object)
        out[self.known] = self.ints[self.known].tolist()
        return out


def parse_counts(values: pd.Series) -> Counts:
    """Parse whole, non-negative counts (``1777.0`` is a count; ``1.5`` and ``-3`` are not)."""
    numbers = parse_numbers(values, counts=True)
    floats = numbers.values
    known = ~np.isnan(floats)
    # Beyond 2**53 a float no longer holds every whole number, and from 2**63 the int64 cast (and
    # the BIGINT column) overflow: no real count is that large, so such a cell is not a number.
    huge = known & (np.abs(np.where(known, floats, 0.0)) >= MAX_COUNT)
    known &= ~huge
    fractional = _fractional(floats) & known
    negative = known & (floats < 0)
    ok = known & ~fractional & ~negative
    ints = np.where(ok, floats, 0.0).astype(np.int64)
    return Counts(ints, ok, numbers.missing, numbers.bad | huge, fractional, negative)


def plain_counts(cells: npt.NDArray[np.object_]) -> Counts | None:
    """``parse_counts`` for the usual column, without stripping: every cell empty or a plain count.

    ``float()`` ignores surrounding blanks, so a column it reads whole gives what the stripped path
    gives. Returns ``None`` (use ``parse_counts``) when any cell is something else: a missing-value
    token, a grouped or odd number, or a value that would be a problem.
    """
    empty = cells == ""
    try:
        floats = np.where(empty, "nan", cells).astype(np.float64)
    except (ValueError, TypeError):
        return None
    known = ~empty
    with np.errstate(invalid="ignore"):
        ok = (floats >= 0) & (floats < MAX_COUNT) & (floats == np.floor(floats))
    if (known & ~ok).any():  # NaN/inf text, fractions, negatives, huge: let the full path report them
        return None
    nothing = np.zeros(len(cells), dtype=bool)
    ints = np.where(known, floats, 0.0).astype(np.int64)
    return Counts(ints, known, empty, nothing, nothing, nothing)


@dataclass(frozen=True, slots=True)
class Times:
    """Parsed timestamps as UTC ``datetime64[ns]`` (NaT where ``missing`` or ``bad``)."""

    utc: npt.NDArray[np.datetime64]
    missing: Mask
    bad: Mask


def parse_times(values: pd.Series, *, formats: Sequence[str], naive_tz: tzinfo) -> Times:
    """Parse timestamps trying ``formats`` in order; values without an offset are in ``naive_tz``.

    Args:
        values: stripped cell strings.
        formats: ``strptime`` formats or ``ISO8601``; the first one that parses a cell wins.
        naive_tz: the zone of wall-clock values (a time in a DST gap moves forward; a repeated
            hour means its first occurrence).
    """
    missing = missing_mask(values)
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    pending = ~missing
    for fmt in formats:
        if not pending.any():
            break
        todo = np.flatnonzero(pending)
        subset = values.iloc[todo]
        if fmt == ISO8601:
            aware, naive = _iso_parts(subset.tolist())
        elif "%z" in fmt:
            aware = _naive_utc(pd.to_datetime(subset, format=fmt, errors="coerce", utc=True))
            naive = np.full(len(todo), np.datetime64("NaT"), dtype="datetime64[ns]")
        else:
            aware = np.full(len(todo), np.datetime64("NaT"), dtype="datetime64[ns]")
            naive = pd.to_datetime(subset, format=fmt, errors="coerce").to_numpy(dtype="datetime64[ns]")
        parsed = np.where(np.isnat(aware), _localize(naive, naive_tz), aware)
        ok = ~np.isnat(parsed)
        out[todo[ok]] = parsed[ok]
        pending[todo[ok]] = False
    bad = pending & ~missing
    return Times(out, missing, bad)


_NAT = np.iinfo(np.int64).min
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: Years we accept; anything else is a typo (and would overflow nanosecond timestamps).
_YEARS = range(1970, 2200)


def _iso_parts(texts: list[str]) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.datetime64]]:
    """ISO 8601 cells as (UTC instants of those with an offset, wall-clock times of those without)."""
    # NOTE: datetime.fromisoformat is ~15x faster than pandas' ISO8601 path on offset-bearing text.
    aware: list[int] = []
    naive: list[int] = []
    for text in texts:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            aware.append(_NAT)
            naive.append(_NAT)
            continue
        if parsed.year not in _YEARS:
            aware.append(_NAT)
            naive.append(_NAT)
        elif parsed.tzinfo is None:
            aware.append(_NAT)
            naive.append((parsed - _EPOCH) // _MICROSECOND)
        else:
            aware.append((parsed - _EPOCH_UTC) // _MICROSECOND)
            naive.append(_NAT)
    return _from_micros(aware), _from_micros(naive)


def _from_micros(micros: list[int]) -> npt.NDArray[np.datetime64]:
    return np.array(micros, dtype=np.int64).view("datetime64[us]").astype("datetime64[ns]")


def _naive_utc(parsed: pd.Series) -> npt.NDArray[np.datetime64]:
    naive: npt.NDArray[np.datetime64] = parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    return naive


def _localize(naive: npt.NDArray[np.datetime64], tz: tzinfo) -> npt.NDArray[np.datetime64]:
    """Wall-clock times in ``tz`` → UTC (NaT stays NaT)."""
    if np.isnat(naive).all():
        return naive
    years = naive.astype("datetime64[Y]").astype(np.int64) + 1970
    naive = np.where((years >= _YEARS.start) & (years < _YEARS.stop), naive, np.datetime64("NaT"))
    # Each distinct wall-clock time once: exports repeat them (X Content has dates only), and
    # pandas' localisation with a per-value DST flag costs ~10 µs a value.
    distinct, inverse = np.unique(naive, return_inverse=True)
    index = pd.DatetimeIndex(distinct).tz_localize(
        tz, ambiguous=np.ones(len(distinct), dtype=bool), nonexistent="shift_forward"
    )
    utc: npt.NDArray[np.datetime64] = (
        index.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ns]")
    )
    return utc[inverse.reshape(-1)]


_PERIOD = r"^\d{4}-(?:0[1-9]|1[0-2])(?:-\d{2})?$"


def period_masks(values: pd.Series) -> tuple[Mask, Mask]:
    """Which cells are a KPI period: ``YYYY-MM`` or a real date ``YYYY-MM-DD``; and which of those
    fall in the months :func:`bot.periods.period_range` accepts (1970-01 to 9999-11)."""
    first, last = period_range("monthly")
    formed = values.str.match(_PERIOD).to_numpy()
    months = values.str[:7]
    in_range = formed & (months >= first.label).to_numpy() & (months <= last.label).to_numpy()
    days = formed & (values.str.len() == 10).to_numpy()
    if days.any():
        formed[days] = [_is_date(cell) for cell in values[days].tolist()]
    return formed, in_range & formed


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
