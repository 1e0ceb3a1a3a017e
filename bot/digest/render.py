"""A digest rendered for posting: the composed digest, its message per channel, and the monthly (or
quarterly) digest's chart, CSV and one-page PDF for the thread (I/O: reads the store; the chart and
the PDF render in a thread)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.actions.ui import questions_message
from bot.config import Settings
from bot.db import unit_of_work
from bot.digest.compose import MonthlyDigest, WeeklyDigest
from bot.digest.facts import build_monthly, build_quarterly, build_weekly
from bot.digest.ui.attachments import build_kpi_csv, chart_series
from bot.digest.ui.monthly import monthly_doc, monthly_message, period_title
from bot.digest.ui.weekly import weekly_message
from bot.i18n import translator
from bot.participation import roster as participation
from bot.periods import Period, PeriodKind
from bot.slack.blocks import Message

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

#: ``<@U…>`` in a digest's text: on paper a mention does not resolve, so the page prints names.
_MENTION_RE = re.compile(r"<@([UW][A-Z0-9]{2,39})>")
#: People looked up for one page at most (a digest thanks a team, not a company).
_NAMES_MAX = 60


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    title: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Rendered:
    """What gets posted: the message per channel (metadata differs) and files for its thread."""

    digest: WeeklyDigest | MonthlyDigest
    uploads: tuple[Upload, ...]
    #: The monthly review's questions, the first reply in the digest's thread.
    questions: Message | None = None

    @property
    def empty(self) -> bool:
        return self.digest.empty

    def message(self, settings: Settings, channel: str) -> Message:
        t = translator(settings.locale)
        if isinstance(self.digest, WeeklyDigest):
            return weekly_message(self.digest, settings=settings, t=t, channel=channel)
        return monthly_message(self.digest, settings=settings, t=t, channel=channel)


def render_chart(digest: MonthlyDigest, *, settings: Settings) -> bytes:
    """The monthly (or quarterly) chart PNG (CPU-bound: callers run it in a thread)."""
    from bot.kpi.charts import render_trend_chart

    t = translator(settings.locale)
    return render_trend_chart(
        chart_series(digest, locale=settings.locale),
        title=t("digest.monthly.chart_title", period=digest.history_end),
        locale=settings.locale,
        target_label=t("digest.monthly.chart_target"),
    )


def render_pdf(digest: MonthlyDigest, *, settings: Settings, names: Mapping[str, str] | None = None) -> bytes:
    """The digest as a one-page A4 PDF (CPU-bound: callers run it in a thread)."""
    from bot.digest.pdf import render_page

    return render_page(digest, settings=settings, t=translator(settings.locale), names=names)


async def people_names(deps: Deps, digest: MonthlyDigest) -> dict[str, str]:
    """Slack display names of the people the digest mentions, for its PDF page (best effort: whoever
    Slack does not tell about, or every one when Slack is away, stays a user ID)."""
    doc = monthly_doc(digest, settings=deps.settings, t=deps.t)
    text = "\n".join(line for section in doc.sections for line in (*section.lines, *section.fields))
    ids = sorted(set(_MENTION_RE.findall(text)))[:_NAMES_MAX]

    async def one(user_id: str) -> tuple[str, str] | None:
        try:
            response = await deps.slack.users_info(user=user_id)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.info("digest PDF: no name for %s (%s)", user_id, type(exc).__name__)
            return None
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name")
        return (user_id, str(name)) if name else None

    found = await asyncio.gather(*(one(user_id) for user_id in ids))
    return dict(pair for pair in found if pair is not None)


def wants_pdf(settings: Settings, kind: PeriodKind) -> bool:
    """Whether the ``kind`` digest carries its PDF page (``[digest.monthly|quarterly] pdf``)."""
    if kind == PeriodKind.QUARTERLY:
        return settings.digest.quarterly.pdf
    return kind == PeriodKind.MONTHLY and settings.digest.monthly.pdf


async def render(deps: Deps, *, kind: PeriodKind, period: Period) -> Rendered:
    """The ``kind`` digest of ``period``, with the monthly or quarterly attachments when there is
    something to chart."""
    roster = await participation.roster_of(deps)
    managers = list(roster.users)
    if kind == PeriodKind.MONTHLY:
        # The month's final participation rate becomes the manager_participation KPI's value first
        # (not from a roster missing a user group: the last complete value stays).
        await participation.refresh_rate(deps, period=period, roster=managers, complete=not roster.unresolved)
    async with unit_of_work(deps.sessions) as session:
        if kind == PeriodKind.WEEKLY:
            weekly = await build_weekly(session, period=period, settings=deps.settings, managers=managers)
            return Rendered(weekly, ())
        build = build_quarterly if kind == PeriodKind.QUARTERLY else build_monthly
        digest = await build(
            session, period=period, settings=deps.settings, managers=managers, unresolved=roster.unresolved
        )
    if digest.empty:
        return Rendered(digest, ())
    t = deps.t
    # The monthly review's questions open the thread (the quarterly digest is read, not reviewed).
    questions = questions_message(deps.settings, t) if kind == PeriodKind.MONTHLY else None
    if not digest.kpis:
        return Rendered(digest, (), questions)
    named = period_title(period, t)
    png = await asyncio.to_thread(render_chart, digest, settings=deps.settings)
    uploads = [
        Upload(
            f"sns-kpi-{period.label}.png", t("digest.monthly.chart_title", period=digest.history_end), png
        ),
        Upload(
            f"sns-kpi-{period.label}.csv",
            t("digest.monthly.csv_title", period=named),
            build_kpi_csv(digest, t=t),
        ),
    ]
    if wants_pdf(deps.settings, kind):
        names = await people_names(deps, digest)
        pdf = await asyncio.to_thread(render_pdf, digest, settings=deps.settings, names=names)
        uploads.append(Upload(f"sns-kpi-{period.label}.pdf", t("pdf.upload_title", period=named), pdf))
    return Rendered(digest, tuple(uploads), questions)
