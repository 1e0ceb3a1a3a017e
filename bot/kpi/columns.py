"""Posts column by column, and the chunks of a large import (pure, numpy).

Apart from :mod:`bot.kpi.records` so that the running bot loads numpy only when posts are written
(an import, a collector run), not at start (idle memory, start-up time); apart from
:mod:`bot.kpi.importers` so that a process receiving parsed chunks from the parsing child
(:mod:`bot.kpi.import_worker`) never loads pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from bot.kpi.records import BrandedTotals, DailyRecord, KpiRecord, PostRecord, RowProblem, RowSkip
from bot.metrics import ENGAGEMENT_PARTS, METRIC_FIELDS, Metrics

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Index of each metric in ``PostColumns.counts`` / ``PostColumns.known``.
METRIC_INDEX: dict[str, int] = {name: i for i, name in enumerate(METRIC_FIELDS)}

Matrix = npt.NDArray[np.int64]
Mask2D = npt.NDArray[np.bool_]
Strings = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True, eq=False)
class PostColumns:
    """Posts column by column: row ``i`` of every array is one post (what a CSV chunk becomes).

    An import builds these with vectorised code and the store writes them without creating one
    Python object per post; ``records()`` gives the row view for callers that want it.

    Attributes:
        platform, external_id, account_key, text: ``str`` per row.
        url, author: ``str`` or ``None`` per row.
        published_at: UTC publish times, ``datetime64[us]``.
        counts: ``(rows, len(METRIC_FIELDS))`` counters; meaningful only where ``known``.
        known: which counters the source reported (``False`` = "the source did not say").
        line: the source line of each row (``0`` when there is none, e.g. API data).
    """

    platform: Strings
    external_id: Strings
    published_at: npt.NDArray[np.datetime64]
    url: Strings
    text: Strings
    account_key: Strings
    author: Strings
    counts: Matrix
    known: Mask2D
    line: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.external_id)

    def take(self, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> PostColumns:
        """The rows at ``index`` (positions or a mask), in that order."""
        return PostColumns(*(getattr(self, f.name)[index] for f in fields(self)))

    def last_per_key(self) -> PostColumns:
        """One row per ``(platform, external_id)``: the later row wins, as it would one by one."""
        last = {
            key: i
            for i, key in enumerate(zip(self.platform.tolist(), self.external_id.tolist(), strict=True))
        }
        if len(last) == len(self):
            return self
        return self.take(np.fromiter(sorted(last.values()), dtype=np.intp, count=len(last)))

    def engagement_totals(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Per row, what ``Metrics.engagement_total`` says: the figure and whether there is one."""
        eng = METRIC_INDEX["engagements"]
        parts = [METRIC_INDEX[name] for name in ENGAGEMENT_PARTS]
        summed = np.where(self.known[:, parts], self.counts[:, parts], 0).sum(axis=1)
        has = self.known[:, eng] | self.known[:, parts].any(axis=1)
        return np.where(self.known[:, eng], self.counts[:, eng], summed), has

    @classmethod
    def from_records(cls, records: Sequence[PostRecord]) -> PostColumns:
        n = len(records)
        counts = np.zeros((n, len(METRIC_FIELDS)), dtype=np.int64)
        known = np.zeros((n, len(METRIC_FIELDS)), dtype=bool)
        for i, record in enumerate(records):
            for j, value in enumerate(record.metrics.as_dict().values()):
                if value is not None:
                    counts[i, j] = value
                    known[i, j] = True

        def strings(values: list[str | None]) -> Strings:
            out = np.empty(n, dtype=object)
            out[:] = values
            return out

        return cls(
            platform=strings([r.platform for r in records]),
            external_id=strings([r.external_id for r in records]),
            published_at=np.array(
                [r.published_at.astimezone(UTC).replace(tzinfo=None) for r in records], dtype="datetime64[us]"
            ).reshape(n),
            url=strings([r.url for r in records]),
            text=strings([r.text for r in records]),
            account_key=strings([r.account_key for r in records]),
            author=strings([r.author for r in records]),
            counts=counts,
            known=known,
            line=np.array([r.line or 0 for r in records], dtype=np.int64).reshape(n),
        )

    def records(self) -> list[PostRecord]:
        """The same posts as ``PostRecord`` objects (one per row, in row order)."""
        values = np.where(self.known, self.counts, 0).astype(object)
        values[~self.known] = None
        published = [
            _EPOCH + timedelta(microseconds=us) for us in self.published_at.astype(np.int64).tolist()
        ]
        return [
            PostRecord(
                platform=platform,
                external_id=external_id,
                published_at=at,
                url=url,
                text=text,
                account_key=account,
                author=author,
                metrics=Metrics(*metrics),
                line=line or None,
            )
            for platform, external_id, at, url, text, account, author, metrics, line in zip(
                self.platform.tolist(),
                self.external_id.tolist(),
                published,
                self.url.tolist(),
                self.text.tolist(),
                self.account_key.tolist(),
                self.author.tolist(),
                values.tolist(),
                self.line.tolist(),
                strict=True,
            )
        ]


@dataclass(frozen=True, slots=True)
class ImportChunk:
    """The outcome of one chunk of rows.

    Attributes:
        posts: valid post rows, column by column (``posts.records()`` for row objects).
        kpis: valid KPI values (a Search Console file yields its one sum in a final chunk).
        problems: rejected rows, in line order.
        rows: data rows read (blank lines not counted).
        skips: rows deliberately left out, each with its reason (YouTube's "Total" row, a footer,
            X's placeholder rows of unavailable posts).
        daily: day values of a time-series export.
        accounts: the configured accounts the rows were filed under.
        position: the share of the file read so far (0-1), for progress reports.
    """

    posts: PostColumns
    kpis: list[KpiRecord]
    problems: list[RowProblem]
    rows: int
    skips: tuple[RowSkip, ...] = ()
    daily: tuple[DailyRecord, ...] = ()
    accounts: tuple[str, ...] = ()
    position: float | None = None
    #: A Search Console queries table's branded-search totals (its last chunk only).
    branded: BrandedTotals | None = None

    @property
    def skipped(self) -> int:
        return len(self.skips)
