"""The command-line command ``sns-bot digest weekly|monthly|quarterly [--period P]
(--preview|--post|--pdf FILE) [--chart PNG]`` (I/O: store, Slack, files). ``bot.cli`` parses the
arguments and builds the Deps.

``--preview`` prints the same composed digest the scheduler would post, as terminal text;
``--post`` goes through ``delivery.send_digest``, the scheduler's exactly-once path; ``--pdf``
writes the monthly or quarterly digest as the one-page PDF the thread gets, and posts nothing.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot import db
from bot.config import Settings, problems_for_run
from bot.db import unit_of_work
from bot.digest.compose import MonthlyDigest, WeeklyDigest
from bot.digest.delivery import ChannelResult, Outcome, send_digest
from bot.digest.facts import build_monthly, build_quarterly, build_weekly
from bot.digest.render import render_chart, render_pdf
from bot.digest.schedule import channels_for, last_due, period_named
from bot.digest.ui.monthly import monthly_doc
from bot.digest.ui.text import to_text
from bot.digest.ui.weekly import weekly_doc
from bot.digest.updates import UpdateOutcome, update_digest
from bot.errors import BotError
from bot.participation import roster as participation
from bot.periods import Period, PeriodKind

if TYPE_CHECKING:
    from bot.i18n import Translator
    from bot.runtime.deps import Deps

EXIT_OK = 0
EXIT_REFUSED = 1

#: Outcomes after which ``--post`` has nothing left to do (``busy``, ``lost``: another process has it).
_DONE = frozenset(
    {Outcome.POSTED, Outcome.RECOVERED, Outcome.ALREADY_POSTED, Outcome.SKIPPED, Outcome.BUSY, Outcome.LOST}
)


@dataclass(frozen=True, slots=True)
class Preview:
    digest: WeeklyDigest | MonthlyDigest
    text: str


async def build_preview(
    deps: Deps, *, kind: PeriodKind, period: Period, names: Mapping[str, str] | None = None
) -> Preview:
    """The digest of ``period`` as terminal text (``names`` shows user ids as names)."""
    settings, t = deps.settings, deps.t
    roster = await participation.roster_of(deps)
    managers = list(roster.users)
    async with unit_of_work(deps.sessions) as session:
        if kind == PeriodKind.WEEKLY:
            weekly = await build_weekly(session, period=period, settings=settings, managers=managers)
            doc = weekly_doc(weekly, settings=settings, t=t, tz=settings.tz)
            return Preview(weekly, to_text(doc, t=t, names=names))
        build = build_quarterly if kind == PeriodKind.QUARTERLY else build_monthly
        monthly = await build(
            session, period=period, settings=settings, managers=managers, unresolved=roster.unresolved
        )
    doc = monthly_doc(monthly, settings=settings, t=t)
    return Preview(monthly, to_text(doc, t=t, names=names))


async def write_chart(digest: MonthlyDigest, *, settings: Settings, path: Path) -> None:
    png = await asyncio.to_thread(render_chart, digest, settings=settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)


async def write_pdf(
    digest: MonthlyDigest, *, settings: Settings, path: Path, names: Mapping[str, str] | None = None
) -> None:
    """The digest's one-page PDF into ``path`` (``names`` prints user ids as names)."""
    data = await asyncio.to_thread(render_pdf, digest, settings=settings, names=names)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def digest_command(
    deps: Deps,
    *,
    kind: PeriodKind,
    period: str | None,
    post: bool,
    chart: Path | None,
    pdf: Path | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    update: bool = False,
) -> int:
    """Run the ``digest`` command; returns the exit code (0 also when already posted).

    The caller owns ``deps`` (and disposes of its engine).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    settings, t = deps.settings, deps.t
    if update and not post:
        err.write(t("digest_updates.cli.needs_post") + "\n")
        return EXIT_REFUSED
    try:
        chosen = (
            period_named(settings, kind, period) if period else last_due(settings, kind, deps.clock.now())
        )
    except BotError as exc:
        err.write(exc.render(t) + "\n")
        return EXIT_REFUSED
    try:
        await db.migrate(settings.database.url)
        if pdf is not None:
            if kind == PeriodKind.WEEKLY:
                err.write(t("pdf.cli.no_weekly_pdf") + "\n")
                return EXIT_REFUSED
            preview = await build_preview(deps, kind=kind, period=chosen)
            assert isinstance(preview.digest, MonthlyDigest)
            await write_pdf(preview.digest, settings=settings, path=pdf)
            out.write(t("pdf.cli.written", path=str(pdf)) + "\n")
            return EXIT_OK
        if not post:
            preview = await build_preview(deps, kind=kind, period=chosen)
            out.write(preview.text)
            if chart is not None:
                if isinstance(preview.digest, MonthlyDigest):
                    await write_chart(preview.digest, settings=settings, path=chart)
                    out.write(t("digest.cli.chart_written", path=str(chart)) + "\n")
                else:
                    out.write(t("digest.cli.no_weekly_chart") + "\n")
            return EXIT_OK
        problems = problems_for_run(settings)
        if settings.secrets.slack_bot_token is None:
            for problem in problems[:1]:
                err.write(problem.render(t) + "\n")
            return EXIT_REFUSED
        if not channels_for(settings, kind):
            err.write(t("digest.cli.no_channels", kind=t(f"digest.kinds.{kind}")) + "\n")
            return EXIT_REFUSED
        if update:
            return await _update(deps, kind=kind, period=chosen, out=out)
        results = await send_digest(deps, kind=kind, period=chosen, take_over=True)
        for result in results:
            out.write(_outcome_line(t, kind=kind, period=chosen, result=result))
        return EXIT_OK if all(r.outcome in _DONE for r in results) else EXIT_REFUSED
    except BotError as exc:
        err.write(exc.render(t) + "\n")
        return EXIT_REFUSED


async def _update(deps: Deps, *, kind: PeriodKind, period: Period, out: TextIO) -> int:
    """``--post --update``: edit the posted digest in place; a channel not posted yet gets it posted."""
    t = deps.t
    updates = await update_digest(deps, kind=kind, period=period, request=f"cli:{uuid.uuid4().hex}")
    code = EXIT_OK
    for item in updates:
        if item.outcome is UpdateOutcome.NOT_POSTED:
            continue
        out.write(
            t(
                f"digest_updates.outcome.{item.outcome}",
                kind=t(f"digest.kinds.{kind}"),
                period=period.label,
                channel=item.channel,
                error=item.error or "",
            )
            + "\n"
        )
        if item.outcome is UpdateOutcome.FAILED:
            code = EXIT_REFUSED
    never_posted = {i.channel for i in updates if i.outcome is UpdateOutcome.NOT_POSTED}
    if never_posted:
        for result in await send_digest(deps, kind=kind, period=period, take_over=True):
            if result.channel not in never_posted:
                continue
            out.write(_outcome_line(t, kind=kind, period=period, result=result))
            if result.outcome not in _DONE:
                code = EXIT_REFUSED
    return code


def _outcome_line(t: Translator, *, kind: PeriodKind, period: Period, result: ChannelResult) -> str:
    """One line of ``--post``'s report: what happened in one channel."""
    return (
        t(
            f"digest.cli.outcome.{result.outcome}",
            kind=t(f"digest.kinds.{kind}"),
            period=period.label,
            channel=result.channel,
            ts=result.message_ts or "",
            error=result.error or "",
        )
        + "\n"
    )
