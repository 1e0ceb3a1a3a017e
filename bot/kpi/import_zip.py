"""Search Console's performance export as downloaded (a zip of CSV tables) imported in one go (I/O:
the zip unpacked into a temporary directory, its tables parsed and written as one import)."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from bot.errors import BotError
from bot.kpi.import_jobs import parse_job
from bot.kpi.import_report import ImportReport, Note

if TYPE_CHECKING:
    from bot.kpi.import_worker import ParseJob
    from bot.runtime.deps import Deps

#: The format name reported for Search Console's performance export as downloaded.
SEARCH_CONSOLE_ZIP = "search_console_zip"


class Parts(Protocol):
    """The import run the zip's tables are written through (``bot.kpi.imports``), in one transaction."""

    deps: Deps
    dry_run: bool
    chunk_rows: int

    async def parts(self, jobs: list[ParseJob]) -> ImportReport: ...


async def import_zip(
    run: Parts, path: Path, *, kind: Literal["posts", "kpi"] | None, period: str | None
) -> ImportReport:
    """Search Console's performance export as downloaded: branded queries, daily clicks and
    impressions, the period from ``Filters.csv`` (else ``--period``, else the chart's days)."""
    from bot.kpi.importers._bundle import unpack

    label = f"imports.formats.{SEARCH_CONSOLE_ZIP}"
    if kind == "posts":
        wrong = BotError("imports.errors.wrong_kind", format=SEARCH_CONSOLE_ZIP, kind=kind)
        return ImportReport(format=SEARCH_CONSOLE_ZIP, label_key=label, error=wrong, dry_run=run.dry_run)
    deps = run.deps
    with tempfile.TemporaryDirectory(prefix="sns-bot-import-") as tmp:
        try:
            bundle = await asyncio.to_thread(unpack, path, Path(tmp))
        except BotError as refused:
            return ImportReport(
                format=SEARCH_CONSOLE_ZIP, label_key=label, error=refused, dry_run=run.dry_run
            )
        notes: list[Note] = []
        jobs: list[ParseJob] = []
        span = bundle.stated or (await asyncio.to_thread(_chart_span, bundle.chart))
        month = _month_of(span) if bundle.stated is not None else (period or _month_of(span))
        if bundle.stated is not None and period is not None and _month_of(span) != period:
            disagrees = BotError(
                "imports.errors.period_disagrees",
                period=period,
                first=span[0].isoformat() if span else "",
                last=span[1].isoformat() if span else "",
            )
            return ImportReport(
                format=SEARCH_CONSOLE_ZIP, label_key=label, error=disagrees, dry_run=run.dry_run
            )
        if bundle.chart is not None:
            jobs.append(
                parse_job(
                    deps,
                    bundle.chart,
                    kind=None,
                    format=None,
                    account=None,
                    period=None,
                    chunk_rows=run.chunk_rows,
                    part_of_zip=True,
                )
            )
        sc = deps.settings.search_console
        if bundle.queries is None:
            notes.append(Note("imports.notes.no_queries"))
        elif not sc.kpi or not sc.brand_terms:
            notes.append(Note("imports.notes.branded_not_configured"))
        else:
            if month is None and span is not None:
                notes.append(
                    Note(
                        "imports.notes.branded_not_recorded",
                        {"first": span[0].isoformat(), "last": span[1].isoformat()},
                    )
                )
            elif month is not None:
                notes.append(Note("imports.notes.branded_recorded", {"kpi": sc.kpi, "period": month}))
            jobs.append(
                parse_job(
                    deps,
                    bundle.queries,
                    kind="kpi",
                    format=None,
                    account=None,
                    period=month,
                    unrecorded_period=month is None,
                    chunk_rows=run.chunk_rows,
                    part_of_zip=True,
                )
            )
        report = await run.parts(jobs)
    if report.error is not None:
        return report
    first, last = span if span is not None else (report.first_day, report.last_day)
    return replace(
        report,
        format=SEARCH_CONSOLE_ZIP,
        label_key=label,
        first_day=first,
        last_day=last,
        notes=(*report.notes, *notes),
    )


def _chart_span(chart: Path | None) -> tuple[date, date] | None:
    """The first and last day of a Search Console ``Chart.csv`` (what "Last 6 months" meant)."""
    if chart is None:
        return None
    import pandas as pd

    from bot.kpi.importers._daily import parse_days
    from bot.kpi.importers._stream import read_header

    header = read_header(chart, kind=None)
    column = header.positions.get("date")
    if column is None:
        return None
    frame = pd.read_csv(
        chart,
        encoding=header.detected.encoding,
        sep=header.detected.delimiter,
        skiprows=header.detected.header_line,
        header=None,
        dtype=str,
        na_filter=False,
        usecols=[column],
    )
    days = [d for d in parse_days(frame[column].str.strip())[0].tolist() if d]
    if not days:
        return None
    return date.fromisoformat(min(days)), date.fromisoformat(max(days))


def _month_of(span: tuple[date, date] | None) -> str | None:
    """``YYYY-MM`` when the span lies within one calendar month, else ``None``."""
    if span is None or (span[0].year, span[0].month) != (span[1].year, span[1].month):
        return None
    return f"{span[0].year:04d}-{span[0].month:02d}"
