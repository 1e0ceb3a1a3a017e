"""The mid-month pace alert of one KPI (value so far, where pace says it should be, what it takes per
remaining business day, the KPI's "why", a button that opens ``/sns-kpi KEY``) and the optional
"every KPI is on pace" line (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.config import Settings
from bot.i18n import Translator
from bot.kpi.ids import ActionId as KpiActionId
from bot.kpi.numbers import format_percent, format_value
from bot.kpi.pace import Pace
from bot.kpi.ui import month_label
from bot.periods import Period
from bot.slack import blocks as bk


@dataclass(frozen=True, slots=True)
class Late:
    """A caught-up alert: due on ``due_on`` (the bot was not running), sent with the figures of ``as_of``."""

    due_on: date
    as_of: date


def _late_line(late: Late, t: Translator) -> str:
    return t(
        "pace.alert.late",
        due=t("pace.words.date", month=late.due_on.month, day=late.due_on.day),
        as_of=t("pace.words.date", month=late.as_of.month, day=late.as_of.day),
    )


def _need(pace: Pace, t: Translator) -> str:
    """What it takes from here: per business day for a total, the target itself for a level."""
    kpi = pace.kpi
    target = format_value(kpi, pace.target, compact=True)
    if pace.over_target:
        return t("pace.alert.over_target", target=target)
    if pace.per_day is None:
        key = "pace.alert.level_lower" if kpi.better == "lower" else "pace.alert.level_higher"
        return t(key, target=target, days=pace.remaining_days)
    key = "pace.alert.per_day_lower" if kpi.better == "lower" else "pace.alert.per_day_higher"
    # One decimal more than the KPI shows: 2.4 entries a day must not read as 2.
    finer = replace(kpi, decimals=min(4, kpi.decimals + 1))
    return t(key, days=pace.remaining_days, per_day=format_value(finer, pace.per_day, compact=True))


def build_alert(
    pace: Pace, *, month: Period, settings: Settings, t: Translator, late: Late | None = None
) -> bk.Message:
    """One KPI behind its pace, in a few lines, with the button that opens its ``/sns-kpi`` answer;
    a caught-up alert (``late``) says when it was due and that the figures are as of today."""
    kpi = pace.kpi
    name = bk.escape(kpi.name.get(t.locale))
    title_key = "pace.alert.title_lower" if kpi.better == "lower" else "pace.alert.title_higher"
    title = t(title_key, name=name, month=month_label(t, month))
    numbers = t(
        "pace.alert.numbers",
        value=format_value(kpi, pace.value),
        expected=format_value(kpi, pace.expected),
        target=format_value(kpi, pace.target, compact=True),
        gap=format_percent(pace.shortfall_pct),
    )
    need = _need(pace, t)
    lines = [title, numbers, need] + ([_late_line(late, t)] if late is not None else [])
    blocks: list[Block] = [
        bk.mrkdwn("\n".join(lines)),
        bk.context(t("pace.alert.why", why=bk.escape(kpi.why.get(t.locale)))),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=bk.plain(t("pace.alert.open_kpi", cmd=settings.slack.kpi_command, key=kpi.key)),
                    action_id=KpiActionId.OPEN_DETAIL.value,
                    value=kpi.key,
                )
            ]
        ),
    ]
    return bk.Message(text="\n".join(lines), blocks=bk.fit_blocks(blocks))


def build_all_on_pace(*, month: Period, kpis: int, t: Translator, late: Late | None = None) -> bk.Message:
    """The one short line when no KPI is behind (``[pace] all_on_pace_line = true``)."""
    text = t("pace.all_on_pace", month=month_label(t, month), count=kpis)
    if late is not None:
        text = f"{text}\n{_late_line(late, t)}"
    return bk.Message(text=text, blocks=[bk.mrkdwn(text)])
