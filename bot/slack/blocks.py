"""Shared Block Kit primitives used by every feature's ``ui`` module (pure).

Anything a user typed goes through :func:`escape` before it lands in mrkdwn, so a draft that
contains ``<!channel>``, ``<@U…>`` or ``<https://…|label>`` shows literally and pings or links
nobody. Slack's limits are enforced here once (section 3,000 characters, 50 blocks a message).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

SECTION_MAX = 3000
FIELD_MAX = 2000
HEADER_MAX = 150
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
#: Slack rejects messages whose blocks add up to more than about 12-13k characters
#: (``msg_blocks_too_long``); we stay under this.
MESSAGE_TEXT_BUDGET = 11_500
#: The top-level ``text`` fallback: Slack recommends at most 4,000 characters.
FALLBACK_MAX = 4000


def escape(text: str) -> str:
    """Escape user text for mrkdwn: ``&``, ``<`` and ``>`` (Slack's three control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to at most ``limit`` characters, never inside an escape entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ellipsis)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ellipsis


def slack_length(text: str) -> int:
    """``text``'s length as Slack may count it: UTF-16 code units, so a character outside the BMP
    (most emoji) counts 2. Never less than Python's code-point count, so a text within a limit
    by this measure is within it by either."""
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


_QUOTE = "&gt; "
_EMPTY_QUOTE = "&gt;"
#: Code points that belong to the character before them: cutting in front of one would split
#: what the reader sees as one character (a combining accent, a ZWJ emoji sequence, a variation
#: selector, a skin tone, a keycap, a tag sequence).
_JOINERS = frozenset({0x200C, 0x200D, 0xFE0E, 0xFE0F, 0x20E3})


def _joins_previous(char: str) -> bool:
    code = ord(char)
    return (
        code in _JOINERS
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or 0xDC00 <= code <= 0xDFFF  # a low surrogate (text decoded with lone surrogates)
        or unicodedata.combining(char) != 0
    )


def _may_cut_before(text: str, i: int) -> bool:
    """Whether a section may end between ``text[i - 1]`` and ``text[i]``."""
    if i <= 0 or i >= len(text):
        return True
    if _joins_previous(text[i]) or ord(text[i - 1]) == 0x200D:
        return False
    # Two regional indicators make one flag.
    flag = range(0x1F1E6, 0x1F200)
    if ord(text[i - 1]) in flag and ord(text[i]) in flag:
        run = 0
        j = i - 1
        while j >= 0 and ord(text[j]) in flag:
            run += 1
            j -= 1
        return run % 2 == 0
    return True


def _quoted_line_pieces(line: str, limit: int) -> list[str]:
    """One line of user text as quoted, escaped pieces of at most ``limit`` (as Slack counts). The
    line is cut in the *unescaped* text, so a cut can never fall inside ``&amp;``/``&lt;``/``&gt;``."""
    if not line:
        return [_EMPTY_QUOTE]
    rendered = _QUOTE + escape(line)
    if slack_length(rendered) <= limit:
        return [rendered]
    room = limit - len(_QUOTE)
    pieces: list[str] = []
    start = 0
    while start < len(line):
        used, end, last_cut = 0, start, None
        while end < len(line):
            size = slack_length(escape(line[end]))
            if used + size > room:
                break
            used += size
            end += 1
            if _may_cut_before(line, end):
                last_cut = end
        # A run of joined characters longer than a section (never typed by a person) is cut anyway.
        cut = last_cut if last_cut is not None and last_cut > start else max(end, start + 1)
        pieces.append(_QUOTE + escape(line[start:cut]))
        start = cut
    return pieces


def quote_sections(text: str, limit: int = SECTION_MAX) -> list[str]:
    """User text as mrkdwn block quotes, escaped, *whole*: as many pieces as it takes, each at most
    ``limit`` characters as Slack counts them (:func:`slack_length`), for one section block each.

    Pieces end between lines where possible; a line longer than a section is cut on a character
    boundary of the unescaped text (never inside an escape entity, a surrogate pair or a combined
    character). Nothing is left out: joining the pieces' lines gives back every line of ``text``.
    """
    sections: list[str] = []
    lines: list[str] = []
    used = 0
    for line in text.split("\n"):
        for piece in _quoted_line_pieces(line, limit):
            size = slack_length(piece)
            if lines and used + 1 + size > limit:
                sections.append("\n".join(lines))
                lines, used = [], 0
            used += size + (1 if lines else 0)
            lines.append(piece)
    if lines:
        sections.append("\n".join(lines))
    return sections


def slack_date(moment: datetime, fallback: str, token: str = "{date_short_pretty} {time}") -> str:
    """A ``<!date^…>`` token: each reader sees the time in their own zone; ``fallback`` otherwise."""
    return f"<!date^{int(moment.timestamp())}^{token}|{fallback}>"


def user(user_id: str) -> str:
    return f"<@{user_id}>"


def link(url: str, label: str) -> str:
    """A mrkdwn link whose label is escaped (and ``|`` cannot break out of it)."""
    safe_url = url.replace(">", "%3E").replace("<", "%3C").replace("|", "%7C").replace(" ", "%20")
    return f"<{safe_url}|{escape(label).replace('|', '¦')}>"


def mrkdwn(text: str, *, block_id: str | None = None, accessory: Any = None) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=truncate(text, SECTION_MAX)), block_id=block_id, accessory=accessory
    )


def fields(items: Sequence[str], *, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(
        fields=[MarkdownTextObject(text=truncate(item, FIELD_MAX)) for item in items[:10]], block_id=block_id
    )


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=truncate(text, HEADER_MAX), emoji=True))


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(t, SECTION_MAX)) for t in texts[:10]])


def divider() -> DividerBlock:
    return DividerBlock()


def plain(text: str, limit: int = 75) -> PlainTextObject:
    return PlainTextObject(text=truncate(text, limit), emoji=True)


@dataclass(frozen=True, slots=True)
class Message:
    """A message ready for ``chat.postMessage``/``chat.update``/``respond``: fallback text + blocks."""

    text: str
    #: Block Kit models, or blocks :func:`fit_blocks` already rendered (and validated) once.
    blocks: Sequence[Block | dict[str, Any]] = ()
    metadata: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def blocks_json(self) -> list[dict[str, Any]]:
        return [b if isinstance(b, dict) else b.to_dict() for b in self.blocks]

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the Web API (``text``, ``blocks``, ``metadata``)."""
        out: dict[str, Any] = {"text": truncate(self.text, FALLBACK_MAX), "blocks": self.blocks_json()}
        if self.metadata is not None:
            out["metadata"] = self.metadata
        out.update(self.extra)
        return out


def block_text_length(block: dict[str, Any]) -> int:
    """Characters of text a block carries (what Slack's cumulative limit counts, roughly)."""
    total = 0
    stack: list[Any] = [block]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") in ("mrkdwn", "plain_text") and isinstance(item.get("text"), str):
                total += len(item["text"])
            else:
                stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return total


def fit_blocks(
    blocks: Sequence[Block], *, more: str | None = None, limit: int = MESSAGE_BLOCKS_MAX
) -> list[dict[str, Any]]:
    """Keep blocks within a message's block count and text budget; ``more`` closes a cut list.

    Returns the kept blocks rendered: measuring needs each block's dict, and rendering a Block Kit
    model (with its validation) is the costly part of building a message, so it is done once.
    """
    out: list[dict[str, Any]] = []
    budget = MESSAGE_TEXT_BUDGET - (len(more) if more else 0)
    room = limit - (1 if more else 0)
    used = 0
    for block in blocks:
        rendered = block.to_dict()
        size = block_text_length(rendered)
        if len(out) >= room or used + size > budget:
            if more:
                out.append(context(more).to_dict())
            return out
        out.append(rendered)
        used += size
    return out
