"""Vectorised cell parsing for export columns: numbers, counts, ids and timestamps (pure, pandas).

Every parser takes a column of stripped strings and returns numpy arrays plus boolean masks
(missing / bad), so one call converts a whole chunk and the caller turns masks into row problems.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

import numpy as np
import numpy.typing as npt
import pandas as pd

Mask = npt.NDArray[np.bool_]

#: Cell values that mean "no data" in real exports (X promoted columns `-`, Meta `N/A`,
#: LinkedIn `NA`, TikTok `undefined`), compared case-insensitively.
MISSING_TOKENS: tuple[str, ...] = ("", "-", "--", "n/a", "na", "undefined", "null")

# Grouped digits: "1,234", "12,400.5", "1 234" (space, NBSP, narrow NBSP).
_COMMA_GROUPED = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"
_SPACE_GROUPED = r"^[+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:\.\d+)?$"
# "1.250" in a count column is a dot-grouped 1250 (a count cannot be 1.25); seen in a YouTube fixture.
_DOT_GROUPED = r"^[+-]?\d{1,3}(?:\.\d{3})+$"
_SEPARATORS = r"[,. \u00a0\u202f]"
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
#: pandas' marker for "parse this as ISO 8601 (date, date+time, with or without offset)".
ISO8601 = "ISO8601"


def missing_mask(values: pd.Series) -> Mask:
    return values.str.lower().isin(MISSING_TOKENS).to_numpy()


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
    text = values.where(~missing, "")
    # Fast path: most cells are plain numbers; only the leftovers go through the regexes.
    out = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, copy=True)
    leftovers = np.isnan(out) & ~missing
    if counts:
        leftovers |= _fractional(out)
    if leftovers.any():
        sub = text[leftovers]
        grouped = sub.str.match(_COMMA_GROUPED) | sub.str.match(_SPACE_GROUPED)
        if counts:
            grouped |= sub.str.match(_DOT_GROUPED)
        cleaned = sub.where(~grouped, sub.str.replace(_SEPARATORS, "", regex=True))
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
    """A parsed count column: Python ``int`` or ``None`` per row, plus what was wrong where."""

    values: npt.NDArray[np.object_]
    missing: Mask
    bad: Mask
    fractional: Mask
    negative: Mask


def parse_counts(values: pd.Series) -> Counts:
    """Parse whole, non-negative counts (``1777.0`` is a count; ``1.5`` and ``-3`` are not)."""
    numbers = parse_numbers(values, counts=True)
    floats = numbers.values
    known = ~np.isnan(floats)
    fractional = _fractional(floats)
    negative = known & (floats < 0)
    ok = known & ~fractional & ~negative
    out = np.full(len(floats), None, dtype=object)
    # tolist() yields Python ints, which is what the records promise.
    out[ok] = floats[ok].astype(np.int64).tolist()
    return Counts(out, numbers.missing, numbers.bad, fractional, negative)


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
        naive_tz: the zone of wall-clock values (DST gaps move forward; repeated hours take the
            first occurrence, as ``zoneinfo`` does with ``fold=0``).
    """
    missing = missing_mask(values)
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    pending = ~missing
    has_offset = values.str.contains(_OFFSET, regex=True).to_numpy()
    for fmt in formats:
        for aware in (True, False):
            todo = pending & (has_offset == aware)
            if not todo.any():
                continue
            subset = values[todo]
            if aware:
                parsed = pd.to_datetime(subset, format=fmt, errors="coerce", utc=True)
            else:
                parsed = pd.to_datetime(subset, format=fmt, errors="coerce")
                if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # a %z format on offset-less text
                    parsed = parsed.dt.tz_convert("UTC")
                else:
                    first = np.ones(len(parsed), dtype=bool)
                    parsed = parsed.dt.tz_localize(naive_tz, ambiguous=first, nonexistent="shift_forward")
                    parsed = parsed.dt.tz_convert("UTC")
            as_utc = parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
            ok = ~np.isnat(as_utc)
            idx = np.flatnonzero(todo)[ok]
            out[idx] = as_utc[ok]
            pending[idx] = False
    bad = pending & ~missing
    return Times(out, missing, bad)


def to_datetimes(utc: npt.NDArray[np.datetime64]) -> list[datetime | None]:
    """Aware UTC ``datetime`` objects (``None`` for NaT)."""
    index = pd.DatetimeIndex(utc).tz_localize("UTC")
    return [None if pd.isna(ts) else ts for ts in index.to_pydatetime()]
