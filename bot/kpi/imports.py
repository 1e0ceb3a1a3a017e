"""Import one export file into the KPI store and say what it did: THE import path of the command line and
of any other caller (I/O: the file, a parsing child for large files, the store).

``import_file`` recognises the file (a CSV export, or Search Console's performance export as the zip it
downloads as), parses it chunk by chunk and writes every chunk in ONE transaction: a file is imported
whole or not at all. With ``dry_run`` it does the same work and rolls back, so its report is exactly
what an import would do (a preview). Progress is sent to an optional async callback after every chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot import db
from bot.errors import BotError
from bot.kpi.import_jobs import account_in_name, parse_job
from bot.kpi.import_report import ImportProgress, ImportReport
from bot.kpi.kinds import ValueSource, is_derived
from bot.kpi.records import (
    BrandedTotals,
    DailyResult,
    KpiRecord,
    RecordResult,
    RowProblem,
    RowSkip,
    UpsertResult,
)
from bot.kpi.values import record_values, sync_accounts, upsert_daily, upsert_posts

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.kpi.columns import ImportChunk
    from bot.kpi.import_worker import ParseJob, Recognised
    from bot.runtime.deps import Deps

#: ``post.source`` / ``kpi_value.source`` / ``daily_metric.source`` of what an import wrote (the import
#: from Slack passes ``ValueSource.IMPORT_SLACK``).
SOURCE = ValueSource.IMPORT_CLI

#: A zip starts with a local file header (or, empty, with the end-of-directory record); checked
#: here so that the writing process never loads pandas (the importers package does).
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

ProgressCallback = Callable[[ImportProgress], Awaitable[None]]


async def import_file(
    deps: Deps,
    path: Path,
    *,
    kind: Literal["posts", "kpi"] | None = None,
    format: str | None = None,
    account: str | None = None,
    period: str | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    user_id: str | None = None,
    source: str = SOURCE,
    name: str | None = None,
    chunk_rows: int = 20_000,
    parse_in_child: bool | None = None,
) -> ImportReport:
    """Import an export file (CSV, or the Search Console zip) and report what it did.

    Never raises for a bad file: a refused file comes back as ``report.error`` (nothing read),
    rejected rows as ``report.problems`` (nothing written). The database must be migrated.

    Args:
        deps: settings, sessions and clock (``deps.settings.accounts`` say which accounts exist).
        path: the file as downloaded.
        kind: what the person asked for (``posts`` / ``kpi``); ``None`` takes whatever the file
            is. Time series (daily values) are taken under either.
        format: a format name (``--format``); ``None`` recognises it from the file.
        account: the configured account the file belongs to when its rows do not say.
        period: ``YYYY-MM`` a Search Console queries table covers, when the file does not say.
        dry_run: compute the report, write nothing (the transaction is rolled back).
        progress: awaited after every chunk and at the end (throttle slow consumers yourself).
        user_id: who imported (``kpi_value.recorded_by``), e.g. the Slack user.
        name: the file's name as downloaded when ``path`` has another one (X names its exports
            after the account: ``daily_tweet_activity_metrics_<handle>_…``).
        chunk_rows, parse_in_child: tuning: rows per chunk, and whether to parse in a child
            process while this one writes (``None``: for files of at least ``WORKER_MIN_BYTES``).
    """
    run = _Run(
        deps,
        dry_run=dry_run,
        progress=progress,
        user_id=user_id,
        source=source,
        chunk_rows=chunk_rows,
        parse_in_child=parse_in_child,
    )
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        error = BotError("imports.errors.file_unreadable", path=str(path), detail=exc.strerror or str(exc))
        return ImportReport(format="", label_key="", error=error, dry_run=dry_run)
    if head.startswith(ZIP_MAGIC):
        from bot.kpi.import_zip import import_zip

        return await import_zip(run, path, kind=kind, period=period)
    if account is None:
        account = account_in_name(deps.settings.accounts, name or path.name)
    job = parse_job(
        deps, path, kind=kind, format=format, account=account, period=period, chunk_rows=chunk_rows
    )
    return await run.parts([job])


@dataclass
class _Totals:
    rows: int = 0
    posts: UpsertResult = UpsertResult()
    daily: DailyResult = DailyResult()
    kpis: RecordResult = RecordResult()
    skips: list[RowSkip] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)
    days: list[date] = field(default_factory=list)
    branded: BrandedTotals | None = None


class _Run:
    """One import: its parts (files) written in one transaction, with progress."""

    def __init__(
        self,
        deps: Deps,
        *,
        dry_run: bool,
        progress: ProgressCallback | None,
        user_id: str | None,
        source: str,
        chunk_rows: int = 20_000,
        parse_in_child: bool | None = None,
    ) -> None:
        self.deps, self.dry_run, self.progress = deps, dry_run, progress
        self.user_id, self.source = user_id, source
        self.chunk_rows, self.parse_in_child = chunk_rows, parse_in_child
        self.started = time.monotonic()

    async def parts(self, jobs: list[ParseJob]) -> ImportReport:
        """Parse and write each job's file in one transaction; the report names the first one's format."""
        settings = self.deps.settings
        derived = {k.key for k in settings.kpis if is_derived(k)}
        totals = _Totals()
        first: Recognised | None = None
        # In the running bot, this process's other writers wait for the import instead of meeting
        # SQLite's lock in its busy handler (see bot.db.unit_of_work); PostgreSQL needs no lock.
        lock = db.writer_lock(self.deps.sessions)
        async with contextlib.AsyncExitStack() as held:
            if lock is not None:
                await lock.acquire()
                held.callback(lock.release)
            return await self._parts(jobs, derived, totals, first, locked=lock is not None)

    async def _parts(
        self,
        jobs: list[ParseJob],
        derived: set[str],
        totals: _Totals,
        first: Recognised | None,
        *,
        locked: bool,
    ) -> ImportReport:
        settings = self.deps.settings
        async with self.deps.sessions() as session:
            transaction = await session.begin()
            try:
                if locked:
                    await session.execute(text("BEGIN IMMEDIATE"))
                await sync_accounts(session, accounts=settings.accounts)
                for index, job in enumerate(jobs):
                    with _worker_for(job, self.parse_in_child) as worker:
                        recognised, chunks = await _open(job, worker)
                        first = first or recognised
                        await self._write(session, chunks, totals, derived, share=(index, len(jobs)))
            except BotError as error:
                await transaction.rollback()
                label = first.label_key if first else ""
                return ImportReport(format="", label_key=label, error=error, dry_run=self.dry_run)
            except IntegrityError:
                # Someone else (a collector, another import) stored one of these rows between our
                # lookup and our insert: all or nothing, so nothing of this file is kept.
                await transaction.rollback()
                return ImportReport(
                    format="", label_key="", error=BotError("kpi.import.conflict"), dry_run=self.dry_run
                )
            except BaseException:
                with contextlib.suppress(Exception):  # the connection itself may be gone
                    await transaction.rollback()
                raise
            if totals.problems or self.dry_run:
                await transaction.rollback()
            else:
                await transaction.commit()
        if self.progress is not None:
            await self.progress(ImportProgress(totals.rows, 1.0, time.monotonic() - self.started, done=True))
        return ImportReport(
            format=first.format if first else "",
            label_key=first.label_key if first else "",
            encoding=first.encoding if first else "",
            accounts=tuple(sorted(totals.accounts)),
            first_day=min(totals.days) if totals.days else None,
            last_day=max(totals.days) if totals.days else None,
            rows=totals.rows,
            posts=totals.posts,
            daily=totals.daily,
            kpis=totals.kpis,
            skips=tuple(totals.skips),
            problems=tuple(sorted(totals.problems, key=lambda p: p.line)),
            branded=totals.branded,
            dry_run=self.dry_run,
        )

    async def _write(
        self,
        session: AsyncSession,
        chunks: Iterator[ImportChunk],
        totals: _Totals,
        derived: set[str],
        *,
        share: tuple[int, int],
    ) -> None:
        now = self.deps.clock.now()
        tz = self.deps.settings.tz
        async with aclosing(_read_ahead(chunks)) as stream:
            async for chunk in stream:
                totals.rows += chunk.rows
                totals.skips.extend(chunk.skips)
                totals.accounts.update(chunk.accounts)
                kpis, refused = _split_derived(chunk.kpis, derived)
                totals.problems.extend([*chunk.problems, *refused])
                if chunk.branded is not None:
                    totals.branded = chunk.branded
                totals.days.extend(_days_of(chunk, tz))
                if not totals.problems:  # keep reading to report every bad row, but write no more
                    if len(chunk.posts):
                        totals.posts += await upsert_posts(session, chunk.posts, source=self.source, now=now)
                    if chunk.daily:
                        totals.daily += await upsert_daily(session, chunk.daily, source=self.source, now=now)
                    if kpis:
                        done = await record_values(
                            session, kpis, source=self.source, user_id=self.user_id, now=now
                        )
                        totals.kpis = RecordResult(
                            totals.kpis.recorded + done.recorded, totals.kpis.unchanged + done.unchanged
                        )
                if self.progress is not None:
                    index, count = share
                    fraction = None if chunk.position is None else (index + chunk.position) / count
                    await self.progress(
                        ImportProgress(totals.rows, fraction, time.monotonic() - self.started)
                    )


def _days_of(chunk: ImportChunk, tz: tzinfo) -> list[date]:
    """The first and last day the chunk's data is about (publish days in ``tz``, series days)."""
    out: list[date] = []
    if chunk.daily:
        days = [d.day for d in chunk.daily]
        out += [date.fromisoformat(min(days)), date.fromisoformat(max(days))]
    if len(chunk.posts):
        import numpy as np

        stamps = chunk.posts.published_at.astype("datetime64[us]")
        for stamp in (np.min(stamps), np.max(stamps)):
            moment = datetime(1970, 1, 1, tzinfo=UTC) + (stamp - np.datetime64(0, "us")).item()
            out.append(moment.astimezone(tz).date())
    return out


@contextlib.contextmanager
def _worker_for(job: ParseJob, in_child: bool | None) -> Iterator[object | None]:
    from bot.kpi.import_worker import WORKER_MIN_BYTES, ParseWorker

    if in_child is None:
        try:
            size = job.path.stat().st_size
        except OSError:
            size = 0  # reported as unreadable by the parser, in this process
        in_child = os.name == "posix" and size >= WORKER_MIN_BYTES  # the child takes a pipe by descriptor
    if in_child:
        with ParseWorker(job) as worker:
            yield worker
    else:
        yield None


async def _open(job: ParseJob, worker: object | None) -> tuple[Recognised, Iterator[ImportChunk]]:
    from bot.kpi.import_worker import ParseWorker

    if isinstance(worker, ParseWorker):
        worker.start()
        recognised = await asyncio.to_thread(worker.recognised)
        return recognised, worker.chunks()
    return job.open()


async def _read_ahead(chunks: Iterator[ImportChunk]) -> AsyncGenerator[ImportChunk, None]:
    """The chunks, each next one read in a worker thread while the caller writes the current one.

    Parsed in this process, the thread runs pandas beside the writer: on PostgreSQL the server
    works in its own process meanwhile (1M rows: 62 s → 48 s on two cores), while SQLite gains
    nothing, its driver thread taking the GIL for every row it binds. Parsed in a child process
    (large files, :mod:`bot.kpi.import_worker`), the thread only waits for the pipe and unpickles,
    and the child parses on the other core. One chunk ahead at most here (the child is at most
    one more ahead), so memory stays bounded; the iterator is never entered twice at once.
    """
    pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
    try:
        while (chunk := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
            yield chunk
    finally:
        # The caller stopped early (its write failed): the read in flight ends before we return,
        # and what it raised, if anything, is dropped; the caller's own error is the one to report.
        await asyncio.wait([pending])
        if not pending.cancelled():
            pending.exception()


def _split_derived(records: list[KpiRecord], derived: set[str]) -> tuple[list[KpiRecord], list[RowProblem]]:
    """Values of derived KPIs come from posts; a file that names one gets that row rejected."""
    if not derived:
        return records, []
    keep = [r for r in records if r.kpi not in derived]
    problems = [
        RowProblem(line=r.line or 0, key="kpi.errors.derived_row", params={"value": r.kpi})
        for r in records
        if r.kpi in derived
    ]
    return keep, problems
