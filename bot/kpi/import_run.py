"""Run one import of an export file and say what it did, without printing: the format recognised, the
accounts and period it covers, posts new/updated/unchanged, values recorded/unchanged, rows skipped
and every rejected row (I/O: the file, the store; pandas in a worker thread).

Used by the import from Slack (:mod:`bot.kpi.uploads`): once as a dry run for the preview (the
same writes in a transaction that is rolled back, so its counts are exactly what the import will
do), then for real when Import is clicked. Like ``sns-bot import``, a file with any rejected row
writes nothing. :func:`report_lines` renders the report with the command line's own catalog lines.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot import db
from bot.errors import BotError
from bot.i18n import Translator
from bot.kpi.kinds import ValueSource, is_derived
from bot.kpi.records import RecordResult, RowProblem, UpsertResult
from bot.kpi.values import record_values, sync_accounts, upsert_posts

if TYPE_CHECKING:
    from bot.kpi.columns import ImportChunk
    from bot.runtime.deps import Deps

#: Rejected rows kept in a report (a broken file can have thousands; the count is always exact).
MAX_PROBLEMS = 20

#: Called after each chunk is written with the rows read so far (may await, e.g. a Slack update).
Progress = Callable[[int], Awaitable[None]]


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
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)
    first: date | None = None
    last: date | None = None
    #: A refusal of the whole run (a store conflict, the database away); nothing was written.
    error: BotError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.rejected

    @property
    def writes(self) -> bool:
        """Whether importing changes anything."""
        return bool(self.posts.new or self.posts.updated or self.values.recorded)

    def _cover(self, start: date, end: date) -> None:
        self.first = start if self.first is None else min(self.first, start)
        self.last = end if self.last is None else max(self.last, end)


@dataclass(frozen=True, slots=True)
class OpenedFile:
    kind: Literal["posts", "kpi"]
    format_key: str
    encoding: str
    chunks: Iterator[ImportChunk]


def open_export(deps: Deps, path: Path, *, chunk_rows: int = 20_000) -> OpenedFile:
    """Recognise ``path`` (format, and so whether it holds posts or KPI values) and start reading it
    (blocking: call it in a thread).

    Raises:
        BotError: ``imports.errors.*`` (unknown format, undecodable, missing columns, …).
    """
    from bot.kpi.import_worker import ParseJob
    from bot.kpi.importers import detect_format

    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
    except OSError as exc:
        raise BotError("imports.errors.file_unreadable", path=path.name, detail=exc.strerror or "") from exc
    kind: Literal["posts", "kpi"] = "kpi" if detect_format(head).format.kind == "kpi" else "posts"
    settings = deps.settings
    job = ParseJob(
        path=path,
        kind=kind,
        format=None,
        tz=settings.tz,
        accounts={a.key: a.platform for a in settings.accounts},
        account=None,
        chunk_rows=chunk_rows,
        period=None,
        search_console=settings.search_console,
        kpis=tuple(k.key for k in settings.kpis),
    )
    recognised, chunks = job.open()
    return OpenedFile(kind, recognised.label_key, recognised.encoding, chunks)


async def run_import(
    deps: Deps,
    opened: OpenedFile,
    *,
    dry_run: bool,
    source: ValueSource,
    user_id: str | None,
    progress: Progress | None = None,
) -> ImportReport:
    """Write the file's chunks in one transaction (rolled back for a dry run, or when any row is
    rejected) and report what was done.

    Raises:
        BotError: ``imports.errors.*`` found while reading (a malformed CSV mid-file).
    """
    report = ImportReport(opened.kind, opened.format_key, opened.encoding, dry_run)
    now = deps.clock.now()
    # In the running bot, other writers of this process wait for the import instead of meeting
    # SQLite's lock in its busy handler (see bot.db.unit_of_work).
    lock = db.writer_lock(deps.sessions)
    async with contextlib.AsyncExitStack() as held:
        if lock is not None:
            await lock.acquire()
            held.callback(lock.release)
        return await _write(
            deps,
            opened,
            report,
            dry_run=dry_run,
            source=source,
            user_id=user_id,
            progress=progress,
            now=now,
            locked=lock is not None,
        )
    raise AssertionError("unreachable")  # pragma: no cover


async def _write(
    deps: Deps,
    opened: OpenedFile,
    report: ImportReport,
    *,
    dry_run: bool,
    source: ValueSource,
    user_id: str | None,
    progress: Progress | None,
    now: datetime,
    locked: bool,
) -> ImportReport:
    settings = deps.settings
    derived = {k.key for k in settings.kpis if is_derived(k)}
    async with deps.sessions() as session:
        transaction = await session.begin()
        try:
            if locked:
                await session.execute(text("BEGIN IMMEDIATE"))
            await sync_accounts(session, accounts=settings.accounts)
            while (chunk := await asyncio.to_thread(next, opened.chunks, None)) is not None:
                report.rows += chunk.rows
                report.skipped += chunk.skipped
                kpis = [r for r in chunk.kpis if r.kpi not in derived]
                problems = [
                    *chunk.problems,
                    *(
                        RowProblem(line=r.line or 0, key="kpi.errors.derived_row", params={"value": r.kpi})
                        for r in chunk.kpis
                        if r.kpi in derived
                    ),
                ]
                report.rejected += len(problems)
                room = MAX_PROBLEMS - len(report.problems)
                report.problems.extend(sorted(problems, key=lambda p: p.line)[: max(room, 0)])
                _cover(report, chunk, tz=settings.tz)
                if not report.rejected:
                    if len(chunk.posts):
                        report.posts += await upsert_posts(session, chunk.posts, source=source, now=now)
                    if kpis:
                        done = await record_values(session, kpis, source=source, user_id=user_id, now=now)
                        report.values = RecordResult(
                            report.values.recorded + done.recorded, report.values.unchanged + done.unchanged
                        )
                if progress is not None:
                    await progress(report.rows)
        except IntegrityError:
            # Another writer (a collector, another import) stored one of these posts meanwhile.
            await transaction.rollback()
            report.error = BotError("kpi.import.conflict")
            return report
        except (OSError, DBAPIError) as exc:
            if not db.is_unavailable_error(exc):
                raise
            with contextlib.suppress(Exception):  # the connection itself may be gone
                await transaction.rollback()
            report.error = BotError("common.errors.db_unavailable")
            return report
        except BaseException:
            await transaction.rollback()
            raise
        if report.rejected or dry_run:
            await transaction.rollback()
        else:
            await transaction.commit()
    return report


def _cover(report: ImportReport, chunk: ImportChunk, *, tz: ZoneInfo) -> None:
    """Note the accounts and the dates (in the configured zone) this chunk's rows are about."""
    import numpy as np

    posts = chunk.posts
    if len(posts):
        report.accounts.update(str(a) for a in np.unique(posts.account_key) if a)

        def day(moment: np.datetime64) -> date:
            at: datetime = moment.astype("datetime64[us]").item()
            return at.replace(tzinfo=UTC).astimezone(tz).date()

        report._cover(day(posts.published_at.min()), day(posts.published_at.max()))
    for record in chunk.kpis:
        start = date.fromisoformat(record.period + "-01" if len(record.period) == 7 else record.period)
        report._cover(start, start)


def report_lines(report: ImportReport, t: Translator) -> list[str]:
    """The report as the command line prints it (same catalog lines), rejected rows first."""
    lines = [t("imports.report.detected", format=t(report.format_key), encoding=report.encoding)]
    if report.accounts:
        lines.append(t("imports.report.accounts", accounts=", ".join(sorted(report.accounts))))
    if report.first is not None and report.last is not None:
        lines.append(t("imports.report.period", first=report.first.isoformat(), last=report.last.isoformat()))
    lines += [t("imports.report.row", line=p.line, message=t(p.key, **p.params)) for p in report.problems]
    if report.error is not None:
        lines.append(report.error.render(t))
        return lines
    lines.append(t("kpi.import.rows", rows=f"{report.rows:,}", skipped=f"{report.skipped:,}"))
    if report.rejected:
        lines.append(t("kpi.import.rejected", count=f"{report.rejected:,}"))
        return lines
    posts, values = report.posts, report.values
    if report.kind == "posts":
        lines.append(
            t(
                "kpi.import.posts",
                new=f"{posts.new:,}",
                updated=f"{posts.updated:,}",
                unchanged=f"{posts.unchanged:,}",
            )
        )
    if values.recorded or values.unchanged or report.kind == "kpi":
        lines.append(t("kpi.import.kpis", recorded=f"{values.recorded:,}", unchanged=f"{values.unchanged:,}"))
    if not report.writes:
        lines.append(t("kpi.import.nothing_new"))
    return lines
