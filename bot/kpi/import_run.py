"""The import behind "drop a file into the bot's DM", over :func:`bot.kpi.imports.import_file` (THE
import path, shared with ``sns-bot import``): the format recognised, the accounts and period it covers,
posts new/updated/unchanged, day values, KPI values, skipped rows with their reasons and every rejected
row (I/O: the file, the store).

Used by :mod:`bot.kpi.uploads`: once as a dry run for the preview (the same writes in a transaction
that is rolled back, so its counts are exactly what the import will do), then for real when Import is
clicked. :func:`report_lines` is the command line's report, line for line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy.exc import DBAPIError

from bot import db
from bot.errors import BotError
from bot.i18n import Translator
from bot.kpi import import_report
from bot.kpi.import_report import ImportProgress, render_report
from bot.kpi.imports import ZIP_MAGIC, import_file
from bot.kpi.kinds import ValueSource
from bot.kpi.records import DailyResult, RecordResult, RowProblem, UpsertResult

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

#: Rejected rows kept in a report (a broken file can have thousands; the count is always exact).
MAX_PROBLEMS = 20

#: Called after each chunk is written with how far the import is (rows, share of the file, rows/s,
#: time left): the command line's progress callback (may await, e.g. a Slack update).
Progress = Callable[[ImportProgress], Awaitable[None]]


@dataclass(slots=True)
class ImportReport:
    """What an import did (or, as a dry run, would do)."""

    kind: Literal["posts", "kpi"]
    format_key: str
    encoding: str
    dry_run: bool
    rows: int = 0
    skipped: int = 0
    posts: UpsertResult = field(default_factory=UpsertResult)
    values: RecordResult = field(default_factory=RecordResult)
    daily: DailyResult = field(default_factory=DailyResult)
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)
    first: date | None = None
    last: date | None = None
    #: A refusal of the whole run (a store conflict, the database away); nothing was written.
    error: BotError | None = None
    #: The full report of :func:`bot.kpi.imports.import_file` (skip reasons, branded search, notes).
    detail: import_report.ImportReport | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.rejected

    @property
    def writes(self) -> bool:
        """Whether importing changes anything."""
        return bool(
            self.posts.new
            or self.posts.updated
            or self.values.recorded
            or self.daily.new
            or self.daily.updated
        )


@dataclass(frozen=True, slots=True)
class OpenedFile:
    """A recognised file, ready to import (or dry-run) any number of times."""

    kind: Literal["posts", "kpi"]
    format_key: str
    encoding: str
    path: Path
    #: The file's name as it was shared (X names its exports after the account).
    name: str | None = None
    chunk_rows: int = 20_000


def open_export(deps: Deps, path: Path, *, chunk_rows: int = 20_000, name: str | None = None) -> OpenedFile:
    """Recognise ``path`` (format, and so whether it holds posts or KPI values) (blocking: call it
    in a thread).

    Raises:
        BotError: ``imports.errors.*`` (unknown format, undecodable, missing columns, one table of
            a Search Console zip, …).
    """
    from bot.kpi.importers._formats import refused_alone
    from bot.kpi.importers._stream import read_header

    del deps  # the settings matter when importing, not when recognising
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise BotError("imports.errors.file_unreadable", path=path.name, detail=exc.strerror or "") from exc
    if head.startswith(ZIP_MAGIC):
        return OpenedFile("kpi", "imports.formats.search_console_zip", "zip", path, name, chunk_rows)
    header = read_header(path, kind=None)
    fmt = header.spec.format
    if refused_alone(fmt.name):
        raise BotError("imports.errors.search_console_part", header=", ".join(header.names)[:80])
    kind: Literal["posts", "kpi"] = "posts" if fmt.kind == "posts" else "kpi"
    return OpenedFile(kind, fmt.label_key, header.detected.encoding, path, name, chunk_rows)


async def run_import(
    deps: Deps,
    opened: OpenedFile,
    *,
    dry_run: bool,
    source: ValueSource,
    user_id: str | None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import (or dry-run) the file in one transaction and report what was done.

    Raises:
        BotError: never for the file itself (its refusal is ``report.error``).
    """

    async def tick(at: ImportProgress) -> None:
        if progress is not None and not at.done:
            await progress(at)

    try:
        detail = await import_file(
            deps,
            opened.path,
            dry_run=dry_run,
            progress=tick,
            user_id=user_id,
            source=source,
            name=opened.name,
            chunk_rows=opened.chunk_rows,
        )
    except (OSError, DBAPIError) as exc:
        if not db.is_unavailable_error(exc):
            raise
        detail = import_report.ImportReport(
            format="",
            label_key=opened.format_key,
            encoding=opened.encoding,
            error=BotError("common.errors.db_unavailable"),
            dry_run=dry_run,
        )
    return ImportReport(
        kind=opened.kind,
        format_key=detail.label_key or opened.format_key,
        encoding=detail.encoding or opened.encoding,
        dry_run=dry_run,
        rows=detail.rows,
        skipped=len(detail.skips),
        posts=detail.posts,
        values=detail.kpis,
        daily=detail.daily,
        rejected=len(detail.problems),
        problems=list(detail.problems[:MAX_PROBLEMS]),
        accounts=set(detail.accounts),
        first=detail.first_day,
        last=detail.last_day,
        error=detail.error,
        detail=detail,
    )


def report_lines(report: ImportReport, t: Translator) -> list[str]:
    """The report as the command line prints it (same catalog lines, the dry-run line aside)."""
    if report.detail is None:
        return [report.error.render(t)] if report.error is not None else []
    return [line for line, _ in render_report(t, replace(report.detail, dry_run=False))]
