"""A digest rendered for posting: the composed digest, its message per channel, and the monthly
digest's chart and CSV for the thread (I/O: reads the store; the chart renders in a thread)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.db import unit_of_work
from bot.digest.compose import MonthlyDigest, WeeklyDigest
from bot.digest.facts import build_monthly, build_weekly
from bot.digest.ui.attachments import build_kpi_csv, chart_series
from bot.digest.ui.monthly import monthly_message
from bot.digest.ui.weekly import weekly_message
from bot.i18n import translator
from bot.participation import roster as participation
from bot.periods import Period, PeriodKind
from bot.slack.blocks import Message

if TYPE_CHECKING:
    from bot.runtime.deps import Deps


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

    @property
    def empty(self) -> bool:
        return self.digest.empty

    def message(self, settings: Settings, channel: str) -> Message:
        t = translator(settings.locale)
        if isinstance(self.digest, WeeklyDigest):
            return weekly_message(self.digest, settings=settings, t=t, channel=channel)
        return monthly_message(self.digest, settings=settings, t=t, channel=channel)


def render_chart(digest: MonthlyDigest, *, settings: Settings) -> bytes:
    """The monthly chart PNG (CPU-bound: callers run it in a thread)."""
    from bot.kpi.charts import render_trend_chart

    t = translator(settings.locale)
    return render_trend_chart(
        chart_series(digest, locale=settings.locale),
        title=t("digest.monthly.chart_title", period=digest.period.label),
        locale=settings.locale,
        target_label=t("digest.monthly.chart_target"),
    )


async def render(deps: Deps, *, kind: PeriodKind, period: Period) -> Rendered:
    """The ``kind`` digest of ``period``, with the monthly attachments when there is something to chart."""
    managers = await participation.managers(deps)
    if kind == PeriodKind.MONTHLY:
        # The month's final participation rate becomes the manager_participation KPI's value first.
        await participation.refresh_rate(deps, period=period, roster=managers)
    async with unit_of_work(deps.sessions) as session:
        if kind == PeriodKind.WEEKLY:
            weekly = await build_weekly(session, period=period, settings=deps.settings, managers=managers)
            return Rendered(weekly, ())
        digest = await build_monthly(session, period=period, settings=deps.settings, managers=managers)
    if digest.empty or not digest.kpis:
        return Rendered(digest, ())
    t = deps.t
    png = await asyncio.to_thread(render_chart, digest, settings=deps.settings)
    uploads = (
        Upload(f"sns-kpi-{period.label}.png", t("digest.monthly.chart_title", period=period.label), png),
        Upload(
            f"sns-kpi-{period.label}.csv",
            t("digest.monthly.csv_title", period=period.label),
            build_kpi_csv(digest, t=t),
        ),
    )
    return Rendered(digest, uploads)
