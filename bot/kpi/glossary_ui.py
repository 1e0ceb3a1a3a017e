"""Block Kit of the KPI glossary: the "What does this mean?" button every surface puts next to a KPI,
the entry as blocks, the modal it opens and the ``/sns-kpi help KEY`` answer (pure)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ButtonElement
from slack_sdk.models.views import View

from bot.config import KpiSettings
from bot.i18n import Translator
from bot.kpi.glossary import Entry, Part, entry
from bot.kpi.ids import ActionId, CallbackId
from bot.kpi.numbers import format_value
from bot.slack.blocks import Message, context, divider, escape, header, mrkdwn, plain

#: Slack: modal titles and close labels are at most 24 characters.
MODAL_TITLE_MAX = 24
#: Slack: a button's value is at most 2,000 characters; a KPI key is at most 40.
_VALUE_MAX = 2000


def glossary_button(kpi_key: str, t: Translator) -> ButtonElement:
    """The button next to a KPI; its value is the KPI key (validated again when clicked)."""
    return ButtonElement(
        action_id=ActionId.GLOSSARY, text=plain(t("glossary.ui.button")), value=kpi_key[:_VALUE_MAX]
    )


def _part_block(item: Entry, part: Part, t: Translator) -> Block:
    text = item.part(part)
    body = escape(text) if text else t("glossary.ui.missing", part=part.value)
    return mrkdwn(f"*{t(f'glossary.parts.{part.value}')}*\n{body}")


def entry_blocks(kpi: KpiSettings, t: Translator, *, cmd: str) -> list[Block]:
    """The entry: a title, the four parts, the KPI's target and "why", and where to see its history."""
    item = entry(kpi, t)
    target = (
        t("glossary.ui.target", target=format_value(kpi, kpi.target, compact=True))
        if kpi.target is not None
        else t("glossary.ui.no_target")
    )
    blocks: list[Block] = [header(t("glossary.ui.title", name=item.name))]
    blocks += [_part_block(item, part, t) for part in Part]
    notes = [target]
    if item.why:
        notes.insert(0, t("glossary.ui.why", why=escape(item.why)))
    blocks += [divider(), context(*notes), context(t("glossary.ui.footer", cmd=cmd, key=kpi.key))]
    return blocks


def entry_text(kpi: KpiSettings, t: Translator) -> str:
    """The entry as plain lines (the message's fallback text)."""
    item = entry(kpi, t)
    lines = [t("glossary.ui.title", name=escape(item.name))]
    for part in Part:
        lines.append(f"{t(f'glossary.parts.{part.value}')}: {escape(item.part(part) or '—')}")
    return "\n".join(lines)


def build_help_entry(kpi: KpiSettings, t: Translator, *, cmd: str) -> Message:
    """``/sns-kpi help KEY``: the KPI's entry, answered ephemerally."""
    return Message(text=entry_text(kpi, t), blocks=entry_blocks(kpi, t, cmd=cmd))


def build_modal(kpi: KpiSettings, t: Translator, *, cmd: str) -> View:
    """The modal the button opens, for whoever clicked it."""
    return _modal(entry_blocks(kpi, t, cmd=cmd), t)


def build_unknown_modal(key: str, t: Translator, *, cmd: str) -> View:
    """A click on a KPI that is no longer configured: say so instead of failing silently."""
    return _modal([mrkdwn(t("glossary.ui.unknown", key=escape(key[:40]), cmd=cmd))], t)


def _modal(blocks: list[Block], t: Translator) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.GLOSSARY,
        title=plain(t("glossary.ui.modal_title"), MODAL_TITLE_MAX),
        close=plain(t("glossary.ui.close"), MODAL_TITLE_MAX),
        blocks=blocks,
    )
