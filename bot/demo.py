"""``sns-bot demo``: a throw-away SQLite store with a quarter of sample data, then what the bot would
say — a ``/sns-kpi`` answer, the weekly and monthly digests — and the monthly chart as a PNG
(I/O: a temporary database, stdout, one file; no Slack workspace, no network)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.clock import FixedClock
from bot.config import Settings, settings_from_mapping
from bot.i18n import Locale, translator
from bot.slack.blocks import Message

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


def _message_text(message: Message, *, names: Mapping[str, str]) -> str:
    """A Block Kit message as terminal text (header, sections, fields, context)."""
    from bot.digest.ui.text import plain_text

    lines: list[str] = []
    for block in message.blocks_json():
        kind = block.get("type")
        if kind == "header":
            title = plain_text(block["text"]["text"], names=names)
            lines += [title, "=" * sum(2 if ord(c) > 0x2E7F else 1 for c in title)]
        elif kind == "section":
            if "text" in block:
                lines.append(plain_text(block["text"]["text"], names=names))
            for item in block.get("fields", []):
                lines.append("  " + plain_text(item["text"], names=names).replace("\n", ": "))
        elif kind == "context":
            lines += [plain_text(e.get("text", ""), names=names) for e in block.get("elements", [])]
        elif kind == "divider":
            lines.append("")
    return "\n".join(lines) + "\n"


async def _kpi_answer(
    settings: Settings,
    deps_sessions: async_sessionmaker[AsyncSession],
    *,
    now_clock: FixedClock,
    names: Mapping[str, str],
) -> str:
    """The ``/sns-kpi`` status answer for the current month, built by the KPI feature's own code."""
    from bot.kpi import ui as kpi_ui
    from bot.kpi.queries import this_month

    t = translator(settings.locale)
    now = now_clock.now()
    async with deps_sessions.begin() as session:
        current = await this_month(session, settings=settings, now=now)
    message = kpi_ui.build_status(
        current.statuses,
        month=current.month,
        today=now.astimezone(settings.tz).date(),
        elapsed=current.elapsed,
        cmd=settings.slack.kpi_command,
        t=t,
    )
    return _message_text(message, names=names)


async def demo(*, out_dir: Path, locale: Locale, stdout: TextIO) -> Path:
    """Build the demo store in a temporary folder, print the answers, write the chart; returns its path."""
    from bot import demo_data
    from bot.app import build_deps
    from bot.db import make_engine
    from bot.digest.cli import build_preview, write_chart, write_pdf
    from bot.digest.compose import MonthlyDigest
    from bot.models import Base
    from bot.periods import PeriodKind, last_finished, month_of

    t = translator(locale)
    names = demo_data.NAMES[locale]
    with tempfile.TemporaryDirectory(prefix="sns-bot-demo-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        settings = settings_from_mapping(demo_data.demo_config(locale=locale, database_url=url), {})
        clock = FixedClock(demo_data.DEMO_NOW)
        engine = make_engine(url)
        deps = build_deps(settings, clock=clock, engine=engine)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            async with deps.sessions.begin() as session:
                await demo_data.seed(session, settings=settings)
            now_local = clock.now().astimezone(settings.tz)
            week = last_finished(PeriodKind.WEEKLY, clock.now(), settings.tz)
            month = month_of(now_local.date())
            stdout.write(
                t("demo.intro", now=now_local.strftime("%Y-%m-%d %H:%M"), week=week.label, month=month.label)
                + "\n\n"
            )
            stdout.write(_rule(t("demo.kpi_heading", cmd=settings.slack.kpi_command)))
            stdout.write(await _kpi_answer(settings, deps.sessions, now_clock=clock, names=names))
            stdout.write("\n" + _rule(t("demo.weekly_heading", period=week.label)))
            stdout.write((await build_preview(deps, kind=PeriodKind.WEEKLY, period=week, names=names)).text)
            stdout.write("\n" + _rule(t("demo.monthly_heading", period=month.label)))
            monthly = await build_preview(deps, kind=PeriodKind.MONTHLY, period=month, names=names)
            stdout.write(monthly.text)
            chart = out_dir / f"sns-kpi-{month.label}.png"
            assert isinstance(monthly.digest, MonthlyDigest)
            await write_chart(monthly.digest, settings=settings, path=chart)
            stdout.write("\n" + t("demo.chart_written", path=str(chart)) + "\n")
            page = out_dir / f"sns-kpi-{month.label}.pdf"
            await write_pdf(monthly.digest, settings=settings, path=page, names=names)
            stdout.write(t("demo.pdf_written", path=str(page)) + "\n")
            stdout.write(t("demo.next_steps") + "\n")
            return chart
        finally:
            await engine.dispose()


def _rule(title: str) -> str:
    return f"──── {title} " + "─" * max(4, 60 - len(title)) + "\n\n"


def run_demo(*, out_dir: Path | None, locale: Locale | None, environ: Mapping[str, str]) -> int:
    """The ``sns-bot demo`` entry point (``environ`` is accepted for symmetry; the demo ignores it)."""
    del environ  # the demo's config is built in; nothing in the environment changes it
    asyncio.run(demo(out_dir=out_dir or Path("demo-output"), locale=locale or "ja", stdout=sys.stdout))
    return 0
