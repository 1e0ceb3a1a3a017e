"""The document both renderings of a digest share, and the line builders both digests use (pure).

A digest is laid out as a :class:`DigestDoc` (title, sections of mrkdwn lines, closing line); the
Slack message (``ui.message``) and the terminal text (``ui.text``) both render it. Lists are cut
with "…and N more" so every section stays within Slack's 3,000 characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk.models.blocks import ButtonElement

from bot.config import Settings
from bot.digest.compose import TopPost
from bot.digest.ui.numbers import fmt_number
from bot.i18n import Translator
from bot.periods import Period
from bot.slack import blocks as bk

#: Items shown in one list before "…and N more" (readability, well inside Slack's limits).
LIST_MAX = 10
#: Characters of a post or win text shown in a list line.
EXCERPT_MAX = 80
#: Room kept at the end of a section for the "…and N more" line.
MORE_RESERVE = 60
#: Mentions shown in one line before "…and N more".
PEOPLE_MAX = 30


@dataclass(frozen=True, slots=True)
class Section:
    """One part of a digest: a bold title and mrkdwn lines, or up to 10 short fields.

    ``max_items`` lines are shown at most; the rest are counted in a "…and N more" line.
    """

    title: str | None = None
    lines: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    note: str | None = None
    max_items: int | None = None
    #: A button beside the section's text (the KPI glossary's "What does this mean?"); Slack only.
    accessory: ButtonElement | None = None
    #: What the section shows when a rendering treats it apart: ``kpis`` (the KPI heading) and
    #: ``kpi`` (one KPI), which the PDF page draws as a table; ``None`` for everything else.
    role: str | None = None


@dataclass(frozen=True, slots=True)
class DigestDoc:
    title: str
    subtitle: str
    sections: tuple[Section, ...]
    closing: str | None
    fallback: str
    #: Buttons under the sections (the monthly review's "Add an action item"); Slack only.
    buttons: tuple[ButtonElement, ...] = ()


def period_range(period: Period, t: Translator) -> str:
    last = period.end - timedelta(days=1)
    return t("digest.common.range", start=period.start.isoformat(), end=last.isoformat())


def account_name(settings: Settings, key: str) -> str:
    account = settings.account(key)
    return account.name if account is not None else key


def excerpt(text: str, limit: int = EXCERPT_MAX) -> str:
    first = " ".join(text.split())
    return bk.truncate(first, limit) if first else ""


def post_line(rank: int, top: TopPost, *, settings: Settings, t: Translator) -> str:
    post = top.post
    label = excerpt(post.text) or t("digest.words.untitled_post")
    shown = bk.link(post.url, label) if post.url else bk.escape(label)
    return t(
        "digest.common.post_line",
        rank=rank,
        post=shown,
        account=bk.escape(account_name(settings, post.account_key)),
        rate=t("digest.units.percent", value=fmt_number(top.rate, 1)),
        engagements=fmt_number(post.engagements or 0),
        impressions=fmt_number(post.impressions or 0),
    )


def people(ids: Sequence[str], t: Translator, *, limit: int = PEOPLE_MAX) -> str:
    shown = t.join(bk.user(i) for i in ids[:limit])
    if len(ids) > limit:
        shown += " " + t("common.words.and_more_people", count=len(ids) - limit)
    return shown


def shown_lines(section: Section, t: Translator, limit: int) -> list[str]:
    """The section's lines as they fit in ``limit`` characters, closed by "…and N more" when cut."""
    head = f"*{section.title}*" if section.title else ""
    cap = len(section.lines) if section.max_items is None else min(section.max_items, len(section.lines))
    out: list[str] = []
    used = len(head)
    for line in section.lines[:cap]:
        if used + 1 + len(line) > limit - MORE_RESERVE:
            break
        out.append(line)
        used += 1 + len(line)
    rest = len(section.lines) - len(out)
    if rest:
        out.append(t("common.words.and_more", count=rest))
    return out
