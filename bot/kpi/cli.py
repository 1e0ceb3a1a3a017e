"""The KPI feature's command-line commands, ``sns-bot import`` and ``sns-bot collect``: CSV import in one
transaction and on-demand collection (I/O: files, store, platform APIs, terminal).

:mod:`bot.cli` builds the ``Deps`` (with the platform clients, for ``collect``), passes them in and
disposes of them afterwards.

The import streams the file chunk by chunk into one transaction. Every rejected row is printed
with its line as soon as it is found; once any row is rejected nothing more is written and the
transaction is rolled back, so a file is imported whole or not at all. ``--dry-run`` does the
same work and always rolls back, which makes its counts exactly what a real import would do.
A large file is parsed in a child process while this one writes (:mod:`bot.kpi.import_worker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

from sqlalchemy.exc import DBAPIError, IntegrityError

from bot import db
from bot.errors import BotError
from bot.i18n import Translator
from bot.kpi.jobs import collect_all
from bot.kpi.kinds import RunStatus, is_derived
from bot.kpi.records import KpiRecord, RecordResult, RowProblem, UpsertResult
from bot.kpi.values import record_values, sync_accounts, upsert_posts

if TYPE_CHECKING:
    from bot.kpi.columns import ImportChunk
    from bot.runtime.deps import Deps

EXIT_OK = 0
EXIT_REFUSED = 1
#: ``post.source`` / ``kpi_value.source`` of what an import wrote.
SOURCE = "import"


def _print_problem(t: Translator, problem: RowProblem, out: TextIO) -> None:
    out.write(t("imports.report.row", line=problem.line, message=t(problem.key, **problem.params)) + "\n")


def _say(text: str, *, err: bool = False) -> None:
    """One line of the command's report (stderr for problems, so stdout stays a clean summary)."""
    (sys.stderr if err else sys.stdout).write(text + "\n")


class _Progress:
    """A one-line row counter on a terminal (nothing when output is redirected)."""

    def __init__(self, t: Translator, out: TextIO) -> None:
        self._t, self._out = t, out
        self._on = out.isatty()
        self._open = False
        self.rows = 0

    def add(self, rows: int) -> None:
        self.rows += rows
        if self._on:
            self._out.write("\r" + self._t("kpi.import.progress", rows=f"{self.rows:,}"))
            self._out.flush()
            self._open = True

    def close(self) -> None:
        """End the progress line so the next message starts on its own line."""
        if self._open:
            self._out.write("\n")
            self._open = False


async def import_command(
    deps: Deps,
    *,
    kind: Literal["posts", "kpi"],
    path: Path,
    format_name: str | None,
    account: str | None,
    period: str | None,
    dry_run: bool,
    chunk_rows: int = 20_000,
    parse_in_child: bool | None = None,
) -> int:
    """Import a CSV export of posts or KPI values; prints the report; returns the exit code.

    Args:
        parse_in_child: parse in a child process while this one writes (``None``: for files of
            at least ``WORKER_MIN_BYTES``); see :mod:`bot.kpi.import_worker`.
    """
    from bot.kpi.import_worker import WORKER_MIN_BYTES, ParseJob, ParseWorker

    settings, t = deps.settings, deps.t
    job = ParseJob(
        path=path,
        kind=kind,
        format=format_name,
        tz=settings.tz,
        accounts={a.key: a.platform for a in settings.accounts},
        account=account,
        chunk_rows=chunk_rows,
        period=period,
        search_console=settings.search_console,
        kpis=tuple(k.key for k in settings.kpis),
    )
    if parse_in_child is None:  # the child takes a pipe by descriptor: POSIX only
        parse_in_child = os.name == "posix" and _file_size(path) >= WORKER_MIN_BYTES
    with ParseWorker(job) if parse_in_child else contextlib.nullcontext() as worker:
        try:
            if worker is None:
                recognised, chunks = job.open()
            else:
                worker.start()
                recognised = await asyncio.to_thread(worker.recognised)
                chunks = worker.chunks()
        except BotError as error:
            _say(error.render(t), err=True)
            return EXIT_REFUSED
        _say(t("imports.report.detected", format=t(recognised.label_key), encoding=recognised.encoding))
        return await _store_chunks(deps, kind=kind, chunks=chunks, dry_run=dry_run)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reported as unreadable by the parser, in this process


async def _store_chunks(
    deps: Deps,
    *,
    kind: Literal["posts", "kpi"],
    chunks: Iterator[ImportChunk],
    dry_run: bool,
) -> int:
    """Write the chunks in one transaction and print the report; returns the exit code."""
    settings, t = deps.settings, deps.t
    await db.migrate(settings.database.url)
    progress = _Progress(t, sys.stderr)
    rejected = 0
    skipped = 0
    posts = UpsertResult()
    values = RecordResult()
    derived = {k.key for k in settings.kpis if is_derived(k)}
    now = deps.clock.now()
    try:
        async with deps.sessions() as session:
            transaction = await session.begin()
            try:
                await sync_accounts(session, accounts=settings.accounts)
                async with aclosing(_read_ahead(chunks)) as stream:
                    async for chunk in stream:
                        progress.add(chunk.rows)
                        skipped += chunk.skipped
                        kpis, problems = _split_derived(chunk.kpis, derived)
                        for problem in sorted([*chunk.problems, *problems], key=lambda p: p.line):
                            if not rejected:
                                progress.close()
                            rejected += 1
                            _print_problem(t, problem, sys.stderr)
                        if rejected:
                            continue  # keep reading to report every bad row, but write nothing more
                        if chunk.posts:
                            posts += await upsert_posts(session, chunk.posts, source=SOURCE, now=now)
                        if kpis:
                            done = await record_values(session, kpis, source=SOURCE, user_id=None, now=now)
                            values = RecordResult(
                                values.recorded + done.recorded, values.unchanged + done.unchanged
                            )
            except BotError as error:
                progress.close()
                await transaction.rollback()
                _say(error.render(t), err=True)
                return EXIT_REFUSED
            except IntegrityError:
                # Someone else (the collector, another import) stored one of these posts between
                # our lookup and our insert; all or nothing, so nothing of this file is kept.
                progress.close()
                await transaction.rollback()
                _say(t("kpi.import.conflict"), err=True)
                return EXIT_REFUSED
            except (OSError, DBAPIError) as exc:
                if not db.is_unavailable_error(exc):
                    raise
                progress.close()
                with contextlib.suppress(Exception):  # the connection itself may be gone
                    await transaction.rollback()
                _say(t("common.errors.db_unavailable"), err=True)
                return EXIT_REFUSED
            if rejected or dry_run:
                await transaction.rollback()
            else:
                await transaction.commit()
    finally:
        progress.close()

    _say(t("kpi.import.rows", rows=f"{progress.rows:,}", skipped=f"{skipped:,}"))
    if rejected:
        _say(t("kpi.import.rejected", count=f"{rejected:,}"), err=True)
        return EXIT_REFUSED
    if kind == "posts":
        _say(
            t(
                "kpi.import.posts",
                new=f"{posts.new:,}",
                updated=f"{posts.updated:,}",
                unchanged=f"{posts.unchanged:,}",
            )
        )
    if values.recorded or values.unchanged or kind == "kpi":
        _say(t("kpi.import.kpis", recorded=f"{values.recorded:,}", unchanged=f"{values.unchanged:,}"))
    if not (posts.new or posts.updated or values.recorded):
        _say(t("kpi.import.nothing_new"))
    if dry_run:
        _say(t("kpi.import.dry_run"))
    return EXIT_OK


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


async def collect_command(deps: Deps, *, account: str | None) -> int:
    """Run the collectors of ``deps.platforms`` now (all accounts, or one); prints one line per platform."""
    settings, t = deps.settings, deps.t
    if account is not None and settings.account(account) is None:
        choices = ", ".join(a.key for a in settings.accounts)
        _say(t("kpi.collect.unknown_account", account=account, choices=choices), err=True)
        return EXIT_REFUSED
    await db.migrate(settings.database.url)
    if not deps.platforms:
        _say(t("kpi.collect.none"))
        return EXIT_OK
    async with db.unit_of_work(deps.sessions) as session:
        await sync_accounts(session, accounts=settings.accounts)
    outcomes = await collect_all(
        sessions=deps.sessions,
        settings=settings,
        platforms=deps.platforms,
        # Admins hear of a rejected token only when the bot can talk to Slack.
        slack=deps.slack if settings.secrets.slack_bot_token else None,
        now=deps.clock.now(),
        account=account,
        locales=deps.locales,
    )
    for outcome in outcomes:
        name_key = f"platforms.names.{outcome.platform}"
        _say(
            t(
                "kpi.collect.result",
                platform=t(name_key) if t.has(name_key) else outcome.platform,
                status=t(f"kpi.collect.status.{outcome.status}"),
                posts=outcome.posts_updated,
                followers=outcome.followers_stored,
            )
        )
        for error in outcome.errors:
            _say(t("kpi.collect.problem", message=error.render(t)), err=True)
    return EXIT_REFUSED if any(o.status is RunStatus.FAILED for o in outcomes) else EXIT_OK
