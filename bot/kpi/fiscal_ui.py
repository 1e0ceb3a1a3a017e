"""``/sns-kpi KEY``'s fiscal roll-up: this quarter, half and fiscal year against their summed (or
averaged) targets, as lines and a Block Kit section added to the KPI's detail answer (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import KpiSettings
from bot.i18n import Translator
from bot.kpi.numbers import format_percent, format_value
from bot.kpi.rollup import RollupKind, SpanFigure, roll_up
from bot.kpi.status import KpiMonth, PostStats
from bot.periods import FiscalSpan, Period, elapsed_share, fiscal_label, fiscal_spans
from bot.slack.blocks import Message, mrkdwn


@dataclass(frozen=True, slots=True)
class SpanLine:
    """One fiscal span of a KPI as ``/sns-kpi KEY`` shows it: its figure and how much of it has passed."""

    span: FiscalSpan
    figure: SpanFigure
    #: ∈ [0, 1]: the share of the span gone by now (1.0: finished).
    elapsed: float


def months_needed(now: datetime, tz: ZoneInfo, fiscal_start: int) -> list[Period]:
    """The months of this fiscal year (future ones carry the targets the spans add up)."""
    return fiscal_spans(now.astimezone(tz).date(), fiscal_start)[2].months()


def span_lines(
    kpi: KpiSettings,
    months: Sequence[KpiMonth],
    *,
    stats: Mapping[str, PostStats] | None,
    now: datetime,
    tz: ZoneInfo,
    fiscal_start: int,
) -> list[SpanLine]:
    """This quarter, half and fiscal year of ``kpi`` from its ``months`` (which hold at least the
    fiscal year's, see :func:`months_needed`)."""
    by_label = {m.month: m for m in months}
    out = []
    for span in fiscal_spans(now.astimezone(tz).date(), fiscal_start):
        figures = [by_label.get(m.label) or KpiMonth(kpi.key, m.label, None, None) for m in span.months()]
        out.append(SpanLine(span, roll_up(kpi, figures, stats=stats), elapsed_share(span, now, tz)))
    return out


def span_line(line: SpanLine, t: Translator) -> str:
    """``*FY2026 Q3 (Oct–Dec)*  52 / 90 (58% of target) · 2 of 3 months · :large_green_circle: on pace``."""
    figure, kpi = line.figure, line.figure.kpi
    label = fiscal_label(line.span, t)
    basis = t(f"fiscal.kpi.basis.{figure.kind}")
    if figure.value is None:
        numbers = t("fiscal.kpi.no_value")
    else:
        value = format_value(kpi, figure.value)
        if figure.target is None:
            numbers = t("fiscal.kpi.value_no_target", value=value)
        else:
            achievement = figure.achievement
            numbers = t(
                "fiscal.kpi.value_target",
                value=value,
                target=format_value(kpi, figure.target, compact=True),
                achievement=format_percent(achievement) if achievement is not None else "—",
            )
    progress = t("fiscal.kpi.progress", counted=figure.counted, months=figure.months)
    on_track = figure.on_track(line.elapsed)
    if on_track is None:
        signal = ""
    elif line.elapsed >= 1.0:
        signal = t("fiscal.kpi.met") if on_track else t("fiscal.kpi.missed")
    else:
        signal = t("fiscal.kpi.on_pace") if on_track else t("fiscal.kpi.behind")
    return t(
        "fiscal.kpi.line", label=label, numbers=numbers, basis=basis, progress=progress, signal=signal
    ).rstrip(" ·")


def fiscal_text(lines: Sequence[SpanLine], t: Translator) -> str:
    """The roll-up as one mrkdwn text: a heading, then one line per span."""
    if not lines:
        return ""
    kpi = lines[0].figure.kpi
    heading = t("fiscal.kpi.title")
    if kpi.better == "lower":
        heading += " " + t("fiscal.kpi.lower_is_better")
    if any(line.figure.kind is RollupKind.RATIO for line in lines):
        heading += "\n" + t("fiscal.kpi.ratio_note")
    return "\n".join([heading, *(span_line(line, t) for line in lines)])


def with_fiscal(message: Message, lines: Sequence[SpanLine], t: Translator) -> Message:
    """``message`` (the KPI's detail answer) with the fiscal roll-up as a section after its first two
    blocks, before its last block (the KPI's "why"), and in its fallback text."""
    text = fiscal_text(lines, t)
    if not text:
        return message
    blocks = list(message.blocks)
    at = max(0, len(blocks) - 1)
    blocks[at:at] = [mrkdwn(text)]
    return replace(message, text=message.text + "\n" + text, blocks=blocks)
