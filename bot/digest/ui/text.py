"""A digest document as terminal text: what ``sns-bot digest --preview`` prints (pure)."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping

from bot.digest.ui.document import DigestDoc, shown_lines
from bot.i18n import Translator

_EMOJI = {
    ":large_green_circle:": "🟢",
    ":red_circle:": "🔴",
    ":white_circle:": "⚪",
    ":trophy:": "🏆",
    ":tada:": "🎉",
    ":hourglass_flowing_sand:": "⏳",
    ":raised_hands:": "🙌",
    ":bar_chart:": "📊",
    ":memo:": "📝",
    # Milestones (bot.milestones.ui).
    ":fire:": "🔥",
    ":star:": "⭐",
    ":mega:": "📣",
    ":balloon:": "🎈",
    # Participation, the review's memory (action items and questions), updates.
    ":handshake:": "🤝",
    ":pushpin:": "📌",
    ":speech_balloon:": "💬",
    ":white_check_mark:": "✅",
    ":warning:": "⚠️",
    ":clap:": "👏",
    ":arrows_counterclockwise:": "🔄",
}
_LINK_RE = re.compile(r"<((?:https?|mailto):[^|>]+)\|([^>]*)>")
_BARE_LINK_RE = re.compile(r"<((?:https?|mailto):[^|>]+)>")
_USER_RE = re.compile(r"<@([UW][A-Z0-9]+)>")
_DATE_RE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
_BOLD_RE = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC_RE = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")


def plain_text(mrkdwn: str, *, names: Mapping[str, str] | None = None) -> str:
    """mrkdwn as a terminal shows it: ``label (url)``, ``@name``, dates as their fallback, no markup."""
    names = names or {}
    text = _DATE_RE.sub(lambda m: m[1], mrkdwn)
    text = _USER_RE.sub(lambda m: "@" + names.get(m[1], m[1]), text)
    text = _BOLD_RE.sub(lambda m: m[1], text)
    text = _ITALIC_RE.sub(lambda m: m[1], text)
    text = _LINK_RE.sub(lambda m: f"{m[2]} ({m[1]})", text)
    text = _BARE_LINK_RE.sub(lambda m: m[1], text)
    for code, char in _EMOJI.items():
        text = text.replace(code, char)
    return html.unescape(text)


def to_text(doc: DigestDoc, *, t: Translator, names: Mapping[str, str] | None = None) -> str:
    """The document as readable terminal text (what ``sns-bot digest --preview`` prints)."""

    def clean(text: str) -> str:
        return plain_text(text, names=names)

    title = clean(doc.title)
    width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in title)
    out = [
        title,
        "=" * width,
        clean(doc.subtitle),
    ]
    for section in doc.sections:
        out.append("")
        if section.title:
            out.append(clean(section.title))
        for field in section.fields:
            out.append("  " + clean(field).replace("\n", ": ", 1))
        for line in shown_lines(section, t, limit=10**9):
            out.append("  " + clean(line).replace("\n", "\n  "))
        if section.note:
            out.append("  " + clean(section.note))
    if doc.closing:
        out += ["", clean(doc.closing)]
    return "\n".join(out) + "\n"
