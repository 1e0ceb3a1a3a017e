"""Block Kit and chart input for /sns-kpi answers (status report, 12-month detail, confirmations, help)
and the "record a KPI value" modal opened from the App Home, with ``parse_*`` of its state (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import Block, InputBlock, Option, PlainTextInputElement, StaticSelectElement
from slack_sdk.models.views import View

from bot.config import KpiSettings, Settings
from bot.i18n import Translator
from bot.kpi.charts import Series
from bot.kpi.ids import ActionId, BlockId, CallbackId
from bot.kpi.kinds import better, value_source
from bot.kpi.numbers import format_change, format_percent, format_value
from bot.kpi.records import Recorded
from bot.kpi.rules import recordable_kpis
from bot.kpi.status import KpiMonth, KpiStatus, achievement
from bot.periods import Period
from bot.slack.blocks import Message, context, divider, escape, fit_blocks, header, mrkdwn, plain

#: Months offered by the "record a KPI value" modal: next month, this month and 11 before it.
MONTHS_BACK = 11
#: Slack: modal titles and button labels of modals are at most 24 characters.
MODAL_TITLE_MAX = 24
#: Slack: a static select holds at most 100 options.
OPTIONS_MAX = 100


def month_label(t: Translator, month: Period) -> str:
    return t("kpi.month", year=month.start.year, month=month.start.month)


def build_help(settings: Settings, t: Translator, *, not_understood: str | None = None) -> Message:
    """``/sns-kpi help``: every subcommand, how to read the status, every KPI with its target and why."""
    cmd = settings.slack.kpi_command
    blocks: list[Block] = []
    if not_understood is not None:
        blocks.append(mrkdwn(t("common.errors.unknown_subcommand", text=escape(not_understood))))
    blocks += [header(t("kpi.help.title")), mrkdwn(t("kpi.help.commands", cmd=cmd)), divider()]
    lines = []
    for kpi in settings.kpis:
        name = kpi.name.get(t.locale)
        target = (
            t("kpi.help.no_target") if kpi.target is None else format_value(kpi, kpi.target, compact=True)
        )
        lines.append(t("kpi.help.kpi_line", key=kpi.key, name=name, target=target, why=kpi.why.get(t.locale)))
    if lines:
        blocks.append(mrkdwn(t("kpi.help.kpis_title") + "\n" + "\n".join(lines)))
    blocks.append(context(t("kpi.help.reading")))
    return Message(text=t("kpi.help.title"), blocks=fit_blocks(blocks))


def _signal(status: KpiStatus, t: Translator) -> str:
    """``:red_circle: Behind (17 expected by now) · vs last month: −6 / −30.0% (worse)``."""
    kpi = status.kpi
    if status.on_track is None:
        signal = t("kpi.status.no_signal")
    elif status.on_track:
        signal = t("kpi.status.on_track")
    else:
        signal = t("kpi.status.behind")
        # Only worth saying for totals, where "by now" differs from the monthly target.
        if status.expected is not None and status.expected != status.target:
            signal = t("kpi.status.behind_expected", value=format_value(kpi, status.expected))
    return t("kpi.status.signal_line", signal=signal, change=_change_text(status, t))


def _change_text(status: KpiStatus, t: Translator) -> str:
    kpi = status.kpi
    if status.change is None:
        return t("kpi.status.no_previous")
    if status.change == 0:
        return t("kpi.status.same")
    change = format_change(kpi, status.change, t)
    if status.change_pct is not None and kpi.unit != "%":
        change += f" / {format_percent(status.change_pct, decimals=1, signed=True)}"
    verdict = t("kpi.status.better") if status.good_change else t("kpi.status.worse")
    return t("kpi.status.vs_last", change=change, verdict=verdict)


def status_line(status: KpiStatus, t: Translator) -> str:
    """``*Name*  value / target (47% of target)`` — the first line of a KPI in the status report."""
    kpi = status.kpi
    name = kpi.name.get(t.locale)
    target = format_value(kpi, status.target, compact=True) if status.target is not None else None
    if status.value is None:
        if target is None:
            return t("kpi.status.empty_line_no_target", name=name)
        return t("kpi.status.empty_line", name=name, target=target)
    value = format_value(kpi, status.value)
    if target is None:
        return t("kpi.status.value_line_no_target", name=name, value=value)
    achievement = format_percent(status.achievement) if status.achievement is not None else "—"
    return t("kpi.status.value_line", name=name, value=value, target=target, achievement=achievement)


def build_status(
    statuses: Sequence[KpiStatus], *, month: Period, today: date, elapsed: float, cmd: str, t: Translator
) -> Message:
    """``/sns-kpi``: a short status report — one summary line, then one block per KPI."""
    title = t("kpi.status.title", month=month_label(t, month))
    as_of = t(
        "kpi.status.as_of",
        date=t("kpi.date", year=today.year, month=today.month, day=today.day),
        elapsed=f"{elapsed * 100:.0f}",
    )
    blocks: list[Block] = [header(title), context(as_of)]
    if not statuses:
        blocks.append(mrkdwn(t("kpi.status.no_kpis")))
        return Message(text=title, blocks=blocks)
    judged = [s for s in statuses if s.target is not None]
    summary = t("kpi.status.summary", on_track=sum(1 for s in judged if s.on_track), total=len(judged))
    blocks.append(mrkdwn(summary))
    lines = []
    for status in statuses:
        line = status_line(status, t)
        detail = _signal(status, t) if status.value is not None else ""
        lines.append(line + ("\n" + detail if detail else ""))
        blocks.append(mrkdwn(lines[-1]))
    blocks.append(context(t("kpi.status.footer", cmd=cmd)))
    text = "\n".join([title, summary, *lines])
    return Message(text=text, blocks=fit_blocks(blocks))


def build_detail(
    kpi: KpiSettings,
    months: Sequence[KpiMonth],
    periods: Sequence[Period],
    status: KpiStatus,
    *,
    t: Translator,
    recorded: Mapping[str, Recorded] | None = None,
) -> Message:
    """``/sns-kpi KEY``: this month's status, then each of the last 12 months as text, newest first,
    each recorded month with who last recorded it and how (``recorded``: by month label)."""
    name = kpi.name.get(t.locale)
    title = t("kpi.detail.title", name=name)
    rows = []
    for item, period in sorted(zip(months, periods, strict=True), key=lambda p: p[1], reverse=True):
        value = format_value(kpi, item.value) if item.value is not None else t("kpi.detail.no_value")
        label = month_label(t, period)
        by = recorded_by(recorded.get(period.label), t=t) if recorded and item.value is not None else ""
        if item.target is None:
            rows.append(t("kpi.detail.row_no_target", month=label, value=value) + by)
            continue
        achieved = achievement(item.value, item.target, better(kpi))
        shown = format_percent(achieved) if achieved is not None else "—"
        rows.append(
            t(
                "kpi.detail.row",
                month=label,
                value=value,
                target=format_value(kpi, item.target, compact=True),
                achievement=shown,
            )
            + by
        )
    current = status_line(status, t)
    signal = _signal(status, t) if status.value is not None else ""
    blocks: list[Block] = [
        header(title),
        mrkdwn(current + ("\n" + signal if signal else "")),
        mrkdwn("\n".join(rows)),
        context(t("kpi.detail.why", why=kpi.why.get(t.locale))),
    ]
    return Message(text="\n".join([title, current, *rows]), blocks=blocks)


def recorded_by(row: Recorded | None, *, t: Translator) -> str:
    """`` · recorded by @x via /sns-kpi set`` for a month's latest recorded value ("" when unknown)."""
    if row is None:
        return ""
    source = value_source(row.source)
    via = t(f"recording.via.{source}") if source is not None else escape(row.source)
    if row.by is None:
        return t("recording.via_only", via=via)
    return t("recording.by", user=f"<@{row.by}>", via=via)


def chart_series(kpi: KpiSettings, months: Sequence[KpiMonth], *, t: Translator) -> Series:
    return Series(
        title=kpi.name.get(t.locale),
        unit=kpi.unit,
        labels=[m.month for m in months],
        values=[m.value for m in months],
        targets=[m.target for m in months],
        better=kpi.better,
    )


def build_recorded(
    kpi: KpiSettings, *, month: Period, value: float, previous: float | None, t: Translator
) -> Message:
    """Ephemeral confirmation of ``/sns-kpi set``."""
    params = {
        "name": kpi.name.get(t.locale),
        "month": month_label(t, month),
        "value": format_value(kpi, value),
    }
    if previous is None:
        text = t("kpi.set.done_first", **params)
    else:
        text = t("kpi.set.done", previous=format_value(kpi, previous), **params)
    return Message(text=text, blocks=[mrkdwn(text)])


def build_target_set(
    kpi: KpiSettings, *, month: Period, value: float, previous: float | None, t: Translator
) -> Message:
    """Ephemeral confirmation of ``/sns-kpi target``."""
    before = format_value(kpi, previous, compact=True) if previous is not None else t("kpi.help.no_target")
    text = t(
        "kpi.target.done",
        name=kpi.name.get(t.locale),
        month=month_label(t, month),
        value=format_value(kpi, value, compact=True),
        previous=before,
    )
    return Message(text=text, blocks=[mrkdwn(text)])


# ---------------------------------------------------------------------------------------------
# The "record a KPI value" modal (opened from the App Home)
# ---------------------------------------------------------------------------------------------


def month_options(current: Period, t: Translator) -> list[Option]:
    """Next month, this month and the 11 before it, newest first."""
    months = [current.next(), current]
    for _ in range(MONTHS_BACK):
        months.append(months[-1].previous())
    return [Option(value=m.label, text=plain(month_label(t, m))) for m in months]


def build_record_modal(*, settings: Settings, t: Translator, current: Period) -> View:
    """KPI select, value and month: the ``/sns-kpi set`` form."""
    kpis = [
        Option(value=k.key, text=plain(k.name.get(t.locale))) for k in recordable_kpis(settings)[:OPTIONS_MAX]
    ]
    months = month_options(current, t)
    blocks: list[Block] = [
        InputBlock(
            block_id=BlockId.KPI,
            label=plain(t("kpi.record.kpi")),
            element=StaticSelectElement(
                action_id=ActionId.KPI,
                options=kpis,
                initial_option=kpis[0] if len(kpis) == 1 else None,
                placeholder=plain(t("kpi.record.kpi_placeholder"), 150),
            ),
        ),
        InputBlock(
            block_id=BlockId.VALUE,
            label=plain(t("kpi.record.value")),
            hint=plain(t("kpi.record.value_hint"), 2000),
            element=PlainTextInputElement(action_id=ActionId.VALUE, max_length=40),
        ),
        InputBlock(
            block_id=BlockId.MONTH,
            label=plain(t("kpi.record.month")),
            element=StaticSelectElement(action_id=ActionId.MONTH, options=months, initial_option=months[1]),
        ),
    ]
    return View(
        type="modal",
        callback_id=CallbackId.RECORD,
        title=plain(t("kpi.record.title"), MODAL_TITLE_MAX),
        submit=plain(t("kpi.record.submit"), MODAL_TITLE_MAX),
        close=plain(t("kpi.record.close"), MODAL_TITLE_MAX),
        blocks=blocks,
    )


def _values(view: Mapping[str, Any]) -> Mapping[str, Any]:
    values = view.get("state", {}).get("values", {})
    return values if isinstance(values, Mapping) else {}


def _selected(values: Mapping[str, Any], block: str, action: str) -> str | None:
    option = values.get(block, {}).get(action, {}).get("selected_option") or {}
    value = option.get("value")
    return value if isinstance(value, str) and value else None


def _typed(values: Mapping[str, Any], block: str, action: str) -> str | None:
    value = values.get(block, {}).get(action, {}).get("value")
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_record_modal(view: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """``(kpi key, value as typed, month label)``; missing inputs are ``None``."""
    values = _values(view)
    return (
        _selected(values, BlockId.KPI, ActionId.KPI),
        _typed(values, BlockId.VALUE, ActionId.VALUE),
        _selected(values, BlockId.MONTH, ActionId.MONTH),
    )
