"""The KPI feature's command-line commands, ``sns-bot import`` and ``sns-bot collect``: CSV import in one
transaction and on-demand collection (I/O: files, store, platform APIs, terminal).

:mod:`bot.cli` builds the ``Deps`` (with the platform clients, for ``collect``), passes them in and
disposes of them afterwards.

The import is :func:`bot.kpi.imports.import_file` (one transaction: a file is imported whole or not
at all; ``--dry-run`` does the same work and rolls back); this module prints its report, every
rejected row with its line on stderr, and its progress (:mod:`bot.kpi.progress`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy.exc import DBAPIError

from bot import db
from bot.errors import BotError
from bot.kpi.import_report import render_report
from bot.kpi.imports import import_file
from bot.kpi.jobs import collect_all
from bot.kpi.kinds import RunStatus
from bot.kpi.progress import TerminalProgress
from bot.kpi.values import sync_accounts

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

EXIT_OK = 0
EXIT_REFUSED = 1


def _say(text: str, *, err: bool = False) -> None:
    """One line of the command's report (stderr for problems, so stdout stays a clean summary)."""
    (sys.stderr if err else sys.stdout).write(text + "\n")


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
    """Import an export file (CSV or the Search Console zip); prints the report; returns the exit code.

    Args:
        parse_in_child: parse in a child process while this one writes (``None``: for files of
            at least ``WORKER_MIN_BYTES``); see :mod:`bot.kpi.import_worker`.
    """
    settings, t = deps.settings, deps.t
    if period is not None:  # a bad option is refused before the store is opened (or created)
        # Imported here: the importers load pandas, which the writing process keeps out of
        # (a large file is parsed in a child, see bot.kpi.import_worker).
        from bot.kpi.importers import check_period_option

        try:
            check_period_option(period)
        except BotError as refused:
            _say(refused.render(t), err=True)
            return EXIT_REFUSED
    await db.migrate(settings.database.url)
    progress = TerminalProgress(t, sys.stderr)
    try:
        report = await import_file(
            deps,
            path,
            kind=kind,
            format=format_name,
            account=account,
            period=period,
            dry_run=dry_run,
            progress=progress,
            chunk_rows=chunk_rows,
            parse_in_child=parse_in_child,
        )
    except (OSError, DBAPIError) as exc:
        if not db.is_unavailable_error(exc):
            raise
        progress.close()
        _say(t("common.errors.db_unavailable"), err=True)
        return EXIT_REFUSED
    finally:
        progress.close()
    for line, problem in render_report(t, report):
        _say(line, err=problem)
    return EXIT_OK if report.ok else EXIT_REFUSED


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
                seen=outcome.posts_seen,
                new=outcome.posts_new,
                followers=outcome.followers_stored,
            )
        )
        for error in outcome.errors:
            _say(t("kpi.collect.problem", message=error.render(t)), err=True)
    return EXIT_REFUSED if any(o.status is RunStatus.FAILED for o in outcomes) else EXIT_OK
