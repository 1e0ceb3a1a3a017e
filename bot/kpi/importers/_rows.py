"""One chunk of data rows with their source lines, and the row problems found in it (pure, pandas).

Converters ask for a logical column (``rows.counts("likes")``); this class finds it by header position,
parses it for the whole chunk at once and records a precise ``RowProblem`` for every bad cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from bot.kpi.importers._detect import Header
from bot.kpi.importers._values import (
    Counts,
    Mask,
    Times,
    missing_mask,
    parse_counts,
    parse_times,
    plain_counts,
)
from bot.kpi.records import RowProblem, RowSkip

#: Longest cell value echoed back in a problem message.
ECHO_CHARS = 60


def echo(value: str) -> str:
    return value if len(value) <= ECHO_CHARS else value[: ECHO_CHARS - 1] + "…"


class Rows:
    """A chunk of rows; ``bad`` and ``skip`` masks say which rows will not become records.

    Args:
        frame: the chunk, columns labelled by position (``0..n``), every cell a string.
        lines: the physical line each row starts on.
        header: the located header (names and positions of the logical columns).
    """

    def __init__(self, frame: pd.DataFrame, *, lines: npt.NDArray[np.int64], header: Header) -> None:
        self.n = len(frame)
        self.lines = lines
        self.bad: Mask = np.zeros(self.n, dtype=bool)
        self.skip: Mask = np.zeros(self.n, dtype=bool)
        self._frame = frame
        self._header = header
        self._texts: dict[str, pd.Series] = {}
        self._problems: list[RowProblem] = []
        self._skips: list[RowSkip] = []

    # -- access -------------------------------------------------------------------------------

    def has(self, key: str) -> bool:
        return key in self._header.positions

    def label(self, key: str) -> str:
        """The column's name as the file spells it (what a person will look for)."""
        if not self.has(key):
            return self._header.spec.column(key).display
        return self._header.names[self._header.positions[key]].replace("\ufeff", "").strip().rstrip("\\")

    def text(self, key: str) -> pd.Series:
        """The column's cells, stripped; all empty when the file lacks the column."""
        if key not in self._texts:
            if self.has(key):
                cells = self._frame.iloc[:, self._header.positions[key]].tolist()
                # Every cell is a str (na_filter=False): a plain comprehension is ~4x faster than .str.
                self._texts[key] = pd.Series(np.array([cell.strip() for cell in cells], dtype=object))
            else:
                self._texts[key] = pd.Series([""] * self.n, dtype=object)
        return self._texts[key]

    def alone(self, key: str) -> Mask:
        """Rows whose ``key`` cell is the only non-empty one (a footer or note line under a table)."""
        if not self.has(key) or not self.n:
            return np.zeros(self.n, dtype=bool)
        cells = self._frame.to_numpy(dtype=object)
        others = np.delete(cells, self._header.positions[key], axis=1).astype(str)
        empty: Mask = (np.char.strip(others) == "").all(axis=1)
        alone: Mask = (self.text(key) != "").to_numpy() & empty
        return alone

    def optional_text(self, key: str) -> list[str | None]:
        """Cells as Python values, ``None`` where the cell means "no data"."""
        values = self.text(key)
        cells: list[str | None] = values.where(~missing_mask(values), None).tolist()
        return cells

    # -- problems -----------------------------------------------------------------------------

    def report(
        self,
        mask: Mask,
        problem: str,
        *,
        column: str | None = None,
        values: pd.Series | Sequence[str] | None = None,
        **params: Any,
    ) -> None:
        """Record ``problem`` for every row in ``mask`` (skipped rows excepted) and mark them bad.

        Args:
            mask: rows with the problem.
            problem: catalog key, e.g. ``imports.errors.bad_number``.
            column: logical column; its file label becomes the ``column`` param.
            values: per-row values; the row's value becomes the ``value`` param.
            params: fixed params for every row.
        """
        mask = mask & ~self.skip
        if not mask.any():
            return
        self.bad |= mask
        label = self.label(column) if column is not None else None
        cells = values.tolist() if isinstance(values, pd.Series) else values
        for i in np.flatnonzero(mask).tolist():
            row_params = dict(params)
            if label is not None:
                row_params["column"] = label
            if cells is not None:
                row_params["value"] = echo(str(cells[i]))
            self._problems.append(RowProblem(line=int(self.lines[i]), key=problem, params=row_params))

    def skip_rows(
        self, mask: Mask, reason: str, *, values: pd.Series | Sequence[str] | None = None, **params: Any
    ) -> None:
        """Leave the rows of ``mask`` out (rows already skipped or bad excepted), naming ``reason``.

        Args:
            reason: catalog key, e.g. ``imports.skips.total_row``.
            values: per-row values; the row's value becomes the ``value`` param.
        """
        mask = mask & ~self.skip & ~self.bad
        if not mask.any():
            return
        self.skip |= mask
        cells = values.tolist() if isinstance(values, pd.Series) else values
        for i in np.flatnonzero(mask).tolist():
            row_params = dict(params)
            if cells is not None:
                row_params["value"] = echo(str(cells[i]))
            self._skips.append(RowSkip(line=int(self.lines[i]), key=reason, params=row_params))

    def skips(self) -> tuple[RowSkip, ...]:
        return tuple(sorted(self._skips, key=lambda s: s.line))

    def problems(self) -> list[RowProblem]:
        """Problems in line order (several for one row keep the order they were found in)."""
        return sorted(self._problems, key=lambda p: p.line)

    # -- parsed columns -----------------------------------------------------------------------

    def required(self, key: str) -> pd.Series:
        """The column's cells, reporting ``missing_value`` where a row has none."""
        values = self.text(key)
        self.report(missing_mask(values), "imports.errors.missing_value", column=key)
        return values

    def counts(self, key: str) -> Counts | None:
        """Whole non-negative counts, or ``None`` without the column."""
        if not self.has(key):
            return None
        if key not in self._texts:
            raw = self._frame.iloc[:, self._header.positions[key]].to_numpy(dtype=object)
            if (quick := plain_counts(raw)) is not None:
                return quick
        values = self.text(key)
        counts = parse_counts(values)
        self.report(counts.bad, "imports.errors.bad_number", column=key, values=values)
        self.report(counts.fractional, "imports.errors.not_whole_number", column=key, values=values)
        self.report(counts.negative, "imports.errors.negative_count", column=key, values=values)
        return counts

    def times(self, key: str, *, formats: Sequence[str], naive_tz: tzinfo, report: bool = True) -> Times:
        """Timestamps of a column; with ``report`` also the missing/bad-date problems."""
        values = self.text(key)
        times = parse_times(values, formats=formats, naive_tz=naive_tz)
        if report:
            self.report(times.missing, "imports.errors.missing_value", column=key)
            self.report(times.bad, "imports.errors.bad_date", column=key, values=values)
        return times
