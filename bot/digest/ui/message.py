"""A digest document as one Slack message within 50 blocks and the text budget (pure)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ContextBlock, MarkdownTextObject

from bot.digest.ui.document import MORE_RESERVE, DigestDoc, Section, shown_lines
from bot.i18n import Translator
from bot.slack import blocks as bk


def _section_blocks(section: Section, t: Translator) -> list[Block]:
    out: list[Block] = []
    if section.lines or section.title:
        lines = shown_lines(section, t, bk.SECTION_MAX)
        head = [f"*{section.title}*"] if section.title else []
        out.append(bk.mrkdwn("\n".join(head + lines), accessory=section.accessory))
    for start in range(0, len(section.fields), 10):  # Slack: at most 10 fields a section
        out.append(bk.fields(section.fields[start : start + 10]))
    if section.note:
        out.append(bk.context(section.note))
    return out


def to_message(doc: DigestDoc, *, metadata: dict[str, Any] | None, t: Translator) -> bk.Message:
    """The document as one Slack message within 50 blocks and the text budget.

    Whole sections that do not fit are dropped from the end and counted in a "…and N more"
    line; the closing line is always kept.
    """
    head: list[Block] = [bk.header(doc.title), bk.context(doc.subtitle)]
    tail: list[Block] = [bk.divider(), bk.context(doc.closing)] if doc.closing else []
    if doc.buttons:  # above the closing line; Slack: an actions block holds at most 25 elements
        tail.insert(0, ActionsBlock(block_id="digest_actions", elements=list(doc.buttons[:25])))
    budget = (
        bk.MESSAGE_TEXT_BUDGET - MORE_RESERVE - sum(bk.block_text_length(b.to_dict()) for b in head + tail)
    )
    room = bk.MESSAGE_BLOCKS_MAX - len(head) - len(tail) - 1
    body: list[Block] = []
    used = 0
    dropped = 0
    for section in doc.sections:
        group = _section_blocks(section, t)
        size = sum(bk.block_text_length(b.to_dict()) for b in group)
        if dropped or len(body) + len(group) > room or used + size > budget:
            dropped += 1
            continue
        body += group
        used += size
    if dropped:
        body.append(
            ContextBlock(elements=[MarkdownTextObject(text=t("common.words.and_more", count=dropped))])
        )
    return bk.Message(text=doc.fallback, blocks=head + body + tail, metadata=metadata)
