"""Block Kit for /sns-kpi answers (pure)."""

from __future__ import annotations

from bot.config import Settings
from bot.i18n import Translator
from bot.slack.blocks import Message, divider, escape, header, mrkdwn


def build_help(settings: Settings, t: Translator, *, not_understood: str | None = None) -> Message:
    """``/sns-kpi help``: every subcommand, then every KPI with its target and why it matters."""
    cmd = settings.slack.kpi_command
    blocks = []
    if not_understood is not None:
        blocks.append(mrkdwn(t("common.errors.unknown_subcommand", text=escape(not_understood))))
    blocks += [header(t("kpi.help.title")), mrkdwn(t("kpi.help.commands", cmd=cmd)), divider()]
    lines = []
    for kpi in settings.kpis:
        name = kpi.name.get(t.locale)
        target = t("kpi.help.no_target") if kpi.target is None else f"{kpi.target:g}{kpi.unit}"
        lines.append(t("kpi.help.kpi_line", key=kpi.key, name=name, target=target, why=kpi.why.get(t.locale)))
    if lines:
        blocks.append(mrkdwn(t("kpi.help.kpis_title") + "\n" + "\n".join(lines)))
    return Message(text=t("kpi.help.title"), blocks=blocks)
