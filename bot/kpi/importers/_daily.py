"""Turn chunks of time-series exports into day values, never totals (pure, pandas).

X's account-level daily export, YouTube Studio's ``Totals.csv`` (channel per day) and ``Chart data.csv``
(one row per video per day) and Search Console's ``Chart.csv`` (site per day) all describe days. Their
rows become :class:`DailyRecord` values; a video named in a chart also becomes a post *without*
metrics, so importing a chart never overwrites a video's lifetime totals with one day's views.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from bot.kpi.columns import PostColumns
from bot.kpi.importers._formats import FormatName
from bot.kpi.importers._posts import YOUTUBE_DATES, PostContext, build_posts, file_account, post_ids
from bot.kpi.importers._rows import Rows
from bot.kpi.importers._values import Mask, missing_mask, parse_numbers
from bot.kpi.records import DailyRecord

#: Day formats tried in order; the first that reads *every* day of a chunk wins, so an Excel
#: re-save's ``13-06-2025`` is read day-first and ``06/13/2025`` month-first, never a mix.
DAY_FORMATS = (
    "%Y-%m-%d",
    "%d-%m-%Y",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%a, %b %d, %Y",
    "%b %d, %Y",
    "%Y年%m月%d日",
)
#: The site-level "account" of Search Console values.
SITE = ""

DailyReader = Callable[[Rows, PostContext], tuple[PostColumns, list[DailyRecord]]]
_NO_POSTS = PostColumns.from_records([])


def parse_days(values: pd.Series) -> tuple[npt.NDArray[np.object_], Mask, Mask]:
    """``YYYY-MM-DD`` per row (``""`` where unknown), with the missing and unreadable masks."""
    missing = missing_mask(values)
    out = np.full(len(values), "", dtype=object)
    present = ~missing
    if not present.any():
        return out, missing, np.zeros(len(values), dtype=bool)
    texts = values[present]
    best: pd.Series | None = None
    for fmt in DAY_FORMATS:
        parsed = pd.to_datetime(texts, format=fmt, errors="coerce")
        if best is None or parsed.notna().sum() > best.notna().sum():
            best = parsed
        if parsed.notna().all():
            break
    assert best is not None
    ok = best.notna().to_numpy()
    days = np.full(len(texts), "", dtype=object)
    days[ok] = best[ok].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    out[present] = days
    bad = present.copy()
    bad[present] = ~ok
    return out, missing, bad


def _days(rows: Rows) -> npt.NDArray[np.object_]:
    days, missing, bad = parse_days(rows.text("date"))
    rows.report(missing, "imports.errors.missing_value", column="date")
    rows.report(bad, "imports.errors.bad_date", column="date", values=rows.text("date"))
    return days


def _values(
    rows: Rows,
    days: npt.NDArray[np.object_],
    *,
    platform: str,
    account: str,
    metrics: Mapping[str, str],
    signed: Sequence[str] = (),
    subjects: npt.NDArray[np.object_] | None = None,
) -> list[DailyRecord]:
    """One record per row and metric the row reports (an empty or ``-`` cell reports nothing).

    Args:
        metrics: logical column → stored metric name.
        signed: columns that may be negative (net counts such as subscribers gained − lost).
    """
    columns: list[tuple[str, npt.NDArray[np.float64], Mask]] = []
    for column, metric in metrics.items():
        if not rows.has(column):
            continue
        if column in signed:
            raw = rows.text(column)
            numbers = parse_numbers(raw)
            rows.report(numbers.bad, "imports.errors.bad_number", column=column, values=raw)
            columns.append((metric, numbers.values, ~np.isnan(numbers.values)))
        else:
            counts = rows.counts(column)
            assert counts is not None
            columns.append((metric, counts.ints.astype(np.float64), counts.known))
    keep = ~rows.bad & ~rows.skip
    out: list[DailyRecord] = []
    for i in np.flatnonzero(keep).tolist():
        for metric, values, known in columns:
            if known[i]:
                out.append(
                    DailyRecord(
                        platform=platform,
                        account_key=account,
                        day=str(days[i]),
                        metric=metric,
                        value=float(values[i]),
                        subject="" if subjects is None else str(subjects[i]),
                        line=int(rows.lines[i]),
                    )
                )
    return out


def read_x_account_daily(rows: Rows, ctx: PostContext) -> tuple[PostColumns, list[DailyRecord]]:
    days = _days(rows)
    metrics = {
        name: name
        for name in (
            "impressions",
            "engagements",
            "likes",
            "shares",
            "comments",
            "clicks",
            "profile_visits",
            "follows",
            "posts",
            "media_views",
        )
    }
    return _NO_POSTS, _values(rows, days, platform="x", account=file_account(ctx), metrics=metrics)


def read_youtube_totals(rows: Rows, ctx: PostContext) -> tuple[PostColumns, list[DailyRecord]]:
    days = _days(rows)
    return _NO_POSTS, _values(
        rows,
        days,
        platform="youtube",
        account=file_account(ctx),
        metrics={"views": "views", "subscribers": "subscribers"},
        signed=("subscribers",),
    )


def read_youtube_chart(rows: Rows, ctx: PostContext) -> tuple[PostColumns, list[DailyRecord]]:
    """Each video's views per day; the videos themselves become posts with no metrics."""
    account = file_account(ctx)
    ids = rows.text("id")
    rows.skip_rows(rows.alone("id"), "imports.skips.footer", values=ids)
    days = _days(rows)
    ids = post_ids(rows, "id", r"[A-Za-z0-9_-]+")
    daily = _values(
        rows,
        days,
        platform="youtube",
        account=account,
        metrics={"views": "views"},
        subjects=ids.to_numpy(dtype=object),
    )
    # Posts for the videos whose publish time the chart gives (a private video's is blank);
    # their metrics stay unknown here, so a stored video keeps its lifetime totals.
    times = rows.times("published", formats=YOUTUBE_DATES, naive_tz=ctx.tz, report=False)
    placed = ~np.isnat(times.utc)
    saved_bad, saved_skip = rows.bad.copy(), rows.skip.copy()
    rows.skip = rows.skip | ~placed
    posts = build_posts(
        rows,
        ids=ids,
        published=times.utc,
        urls=("https://www.youtube.com/watch?v=" + ids).tolist(),
        texts=rows.text("text"),
        metrics={},
        platforms="youtube",
        accounts=account,
        authors=None,
    )
    rows.bad, rows.skip = saved_bad, saved_skip
    return posts, daily


def read_search_console_chart(rows: Rows, _ctx: PostContext) -> tuple[PostColumns, list[DailyRecord]]:
    days = _days(rows)
    return _NO_POSTS, _values(
        rows,
        days,
        platform="search_console",
        account=SITE,
        metrics={"clicks": "clicks", "impressions": "impressions"},
    )


DAILY_READERS: Mapping[FormatName, DailyReader] = {
    FormatName.X_ACCOUNT_DAILY: read_x_account_daily,
    FormatName.YOUTUBE_TOTALS: read_youtube_totals,
    FormatName.YOUTUBE_CHART: read_youtube_chart,
    FormatName.SEARCH_CONSOLE_CHART: read_search_console_chart,
}
