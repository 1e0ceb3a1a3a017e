"""Digest rendering: composed digests → a document → Block Kit or terminal text; the win modal; CSV (pure).

A digest is first laid out as a :class:`DigestDoc` (title, sections of mrkdwn lines, closing
line). Slack and the terminal preview both render that one document, so ``--preview`` shows
exactly what would be posted. Lists are cut with "…and N more" so every section stays within
Slack's 3,000 characters and the message within 50 blocks and its text budget.
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.config import KpiSettings, Settings
from bot.digest.compose import KpiSummary, MonthlyDigest, TopPost, WaitingFact, WeeklyDigest, WinFact
from bot.digest.ids import ActionId, BlockId, CallbackId, WinTarget, digest_metadata
from bot.i18n import Locale, Translator
from bot.kpi.charts import Series
from bot.periods import Period
from bot.slack import blocks as bk

#: Items shown in one list before "…and N more" (readability, well inside Slack's limits).
LIST_MAX = 10
#: Characters of a post or win text shown in a list line.
EXCERPT_MAX = 80
WIN_TEXT_MAX = 300
#: Room kept at the end of a section for the "…and N more" line.
_MORE_RESERVE = 60


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------


def fmt_number(value: float, decimals: int = 0) -> str:
    """``12,345`` / ``3.4``: thousands separators, fixed decimals, never ``-0``."""
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def fmt_value(value: float | None, *, unit: str, decimals: int, t: Translator) -> str:
    """A KPI value with its unit as the locale writes it (``3.4 %`` in English, ``3.4%`` in Japanese)."""
    if value is None:
        return t("digest.words.na")
    number = fmt_number(value, decimals)
    if unit == "%":
        return t("digest.units.percent", value=number)
    if not unit:
        return number
    return t("digest.units.with_unit", value=number, unit=unit)


def fmt_pct(value: float | None, t: Translator, *, signed: bool = False) -> str:
    if value is None:
        return t("digest.words.na")
    number = fmt_number(value, 0)
    if signed and round(value) > 0:
        number = "+" + number
    return t("digest.units.percent", value=number)


def fmt_change(delta: float | None, pct: float | None, *, kpi: KpiSettings, t: Translator) -> str:
    """A signed change: ``+0.4 pt`` for a percentage KPI, ``+6 (+21 %)`` otherwise."""
    if delta is None:
        return t("digest.words.na")
    number = fmt_number(delta, kpi.decimals)
    signed = number if number.startswith("-") or float(number.replace(",", "")) == 0 else "+" + number
    if kpi.unit == "%":
        return t("digest.units.points", value=signed)
    if pct is None:
        return signed
    return t("digest.units.change_with_pct", value=signed, pct=fmt_pct(pct, t, signed=True))


def fmt_hours(hours: float | None, t: Translator) -> str:
    if hours is None:
        return t("digest.words.na")
    return t("digest.units.hours", value=fmt_number(hours, 1))


def _fmt_abs_delta(delta: float, kpi: KpiSettings, t: Translator) -> str:
    number = fmt_number(abs(delta), kpi.decimals)
    if kpi.unit == "%":
        return t("digest.units.points", value=number)
    return fmt_value(abs(delta), unit=kpi.unit, decimals=kpi.decimals, t=t)


def narrative(summary: KpiSummary, t: Translator) -> str:
    """The KPI's month in one sentence, e.g. "Engagement rate rose 0.4 pt to 3.4 %, 113 % of target."."""
    kpi = summary.kpi
    name = kpi.name.get(t.locale)
    if summary.value is None:
        return t("digest.narrative.none", name=name, month=summary.month)
    value = fmt_value(summary.value, unit=kpi.unit, decimals=kpi.decimals, t=t)
    achievement = summary.achievement
    vs_target = "" if achievement is None else t("digest.narrative.vs_target", pct=fmt_pct(achievement, t))
    direction = summary.direction()
    if direction is None:
        return t("digest.narrative.first", name=name, value=value, vs_target=vs_target)
    if direction == "flat":
        return t("digest.narrative.flat", name=name, value=value, vs_target=vs_target)
    assert summary.mom_delta is not None
    delta = _fmt_abs_delta(summary.mom_delta, kpi, t)
    return t(f"digest.narrative.{direction}", name=name, delta=delta, value=value, vs_target=vs_target)


# ---------------------------------------------------------------------------------------------
# The document both renderings share
# ---------------------------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class DigestDoc:
    title: str
    subtitle: str
    sections: tuple[Section, ...]
    closing: str | None
    fallback: str


def _period_range(period: Period, t: Translator) -> str:
    last = period.end - timedelta(days=1)
    return t("digest.common.range", start=period.start.isoformat(), end=last.isoformat())


def _account_name(settings: Settings, key: str) -> str:
    account = settings.account(key)
    return account.name if account is not None else key


def _excerpt(text: str, limit: int = EXCERPT_MAX) -> str:
    first = " ".join(text.split())
    return bk.truncate(first, limit) if first else ""


def _post_line(rank: int, top: TopPost, *, settings: Settings, t: Translator) -> str:
    post = top.post
    label = _excerpt(post.text) or t("digest.words.untitled_post")
    shown = bk.link(post.url, label) if post.url else bk.escape(label)
    return t(
        "digest.common.post_line",
        rank=rank,
        post=shown,
        account=bk.escape(_account_name(settings, post.account_key)),
        rate=t("digest.units.percent", value=fmt_number(top.rate, 1)),
        engagements=fmt_number(post.engagements or 0),
        impressions=fmt_number(post.impressions or 0),
    )


def _kpi_name(settings: Settings, key: str | None, t: Translator) -> str | None:
    if key is None:
        return None
    kpi = settings.kpi_def(key)
    return kpi.name.get(t.locale) if kpi is not None else key


def _win_line(win: WinFact, *, settings: Settings, t: Translator) -> str:
    what = bk.escape(bk.truncate(" ".join(win.what.split()), WIN_TEXT_MAX))
    line = t("digest.weekly.win_line", what=what, who=bk.user(win.nominated_by))
    kpi = _kpi_name(settings, win.kpi_key, t)
    if kpi is not None:
        line += t("digest.weekly.win_kpi", kpi=bk.escape(kpi))
    if win.permalink:
        line += " " + bk.link(win.permalink, t("digest.weekly.win_link"))
    return line


def _message_url(channel: str, ts: str) -> str:
    # Slack's archive URLs redirect to the message in the reader's workspace.
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def _waiting_line(item: WaitingFact, *, settings: Settings, t: Translator, tz: ZoneInfo) -> str:
    local = item.waiting_since.astimezone(tz)
    since = bk.slack_date(item.waiting_since, local.strftime("%Y-%m-%d %H:%M"))
    line = t(
        "digest.weekly.waiting_line",
        who=bk.user(item.requester_id),
        account=bk.escape(_account_name(settings, item.account_key)),
        since=since,
    )
    if item.reviewers:
        line += t("digest.weekly.waiting_reviewers", reviewers=_people(item.reviewers, t, limit=5))
    if item.channel_id and item.message_ts:
        line += " " + bk.link(_message_url(item.channel_id, item.message_ts), t("digest.weekly.open_review"))
    return line


#: Mentions shown in one line before "…and N more".
PEOPLE_MAX = 30


def _people(ids: Sequence[str], t: Translator, *, limit: int = PEOPLE_MAX) -> str:
    shown = ", ".join(bk.user(i) for i in ids[:limit])
    if len(ids) > limit:
        shown += " " + t("common.words.and_more", count=len(ids) - limit)
    return shown


def weekly_doc(digest: WeeklyDigest, *, settings: Settings, t: Translator, tz: ZoneInfo) -> DigestDoc:
    """The weekly wins digest as a document (see :func:`to_message` and :func:`to_text`)."""
    period = digest.period
    title = t("digest.weekly.title", period=period.label)
    subtitle = _period_range(period, t)
    if digest.empty:
        line = t("digest.weekly.empty", period=period.label, range=subtitle)
        return DigestDoc(title, subtitle, (Section(lines=(line,)),), None, fallback=line)
    median = fmt_hours(digest.median_cycle_hours, t)
    sections: list[Section] = [
        Section(
            fields=(
                t("digest.weekly.field_posts", count=fmt_number(digest.posts_published)),
                t("digest.weekly.field_reviews", count=fmt_number(digest.reviews_completed)),
                t("digest.weekly.field_median", value=median),
                t("digest.weekly.field_wins", count=fmt_number(len(digest.wins))),
            )
        )
    ]
    if digest.top_posts:
        lines = tuple(
            _post_line(i, top, settings=settings, t=t) for i, top in enumerate(digest.top_posts, start=1)
        )
    else:
        lines = (t("digest.weekly.no_top_posts", min=fmt_number(digest.min_impressions)),)
    sections.append(
        Section(title=t("digest.weekly.top_posts_title", min=fmt_number(digest.min_impressions)), lines=lines)
    )
    if digest.wins:
        sections.append(
            Section(
                title=t("digest.weekly.wins_title"),
                lines=tuple(_win_line(w, settings=settings, t=t) for w in digest.wins),
                max_items=LIST_MAX,
            )
        )
    shout: list[str] = []
    if digest.authors:
        shout.append(t("digest.weekly.shout_authors", people=_people(digest.authors, t)))
    if digest.reviewers:
        shout.append(t("digest.weekly.shout_reviewers", people=_people(digest.reviewers, t)))
    if shout:
        sections.append(Section(title=t("digest.weekly.shout_title"), lines=tuple(shout)))
    if digest.waiting:
        sections.append(
            Section(
                title=t("digest.weekly.waiting_title", count=len(digest.waiting)),
                lines=tuple(_waiting_line(w, settings=settings, t=t, tz=tz) for w in digest.waiting),
                max_items=LIST_MAX,
            )
        )
    fallback = t(
        "digest.weekly.fallback",
        period=period.label,
        posts=fmt_number(digest.posts_published),
        reviews=fmt_number(digest.reviews_completed),
        median=median,
        wins=fmt_number(len(digest.wins)),
    )
    return DigestDoc(title, subtitle, tuple(sections), t("digest.weekly.closing"), fallback)


def reason_label(key: str, *, settings: Settings, t: Translator) -> str:
    """A change-request reason's label: configured custom label, else the catalogs, else the key."""
    custom = settings.review.custom_reasons.get(key)
    if custom is not None:
        return custom.get(t.locale)
    for catalog_key in (f"review.reasons.{key}", f"digest.reasons.{key}"):
        if t.has(catalog_key):
            return t(catalog_key)
    return key


def _signal(summary: KpiSummary) -> str:
    on_target = summary.on_target
    if on_target is None:
        return ":white_circle:"
    return ":large_green_circle:" if on_target else ":red_circle:"


def _kpi_section(summary: KpiSummary, t: Translator) -> Section:
    kpi = summary.kpi
    name = bk.escape(kpi.name.get(t.locale))
    numbers = t(
        "digest.monthly.kpi_numbers",
        value=fmt_value(summary.value, unit=kpi.unit, decimals=kpi.decimals, t=t),
        target=fmt_value(summary.target, unit=kpi.unit, decimals=kpi.decimals, t=t),
        achievement=fmt_pct(summary.achievement, t),
        mom=fmt_change(summary.mom_delta, summary.mom_pct, kpi=kpi, t=t),
        yoy=fmt_change(summary.yoy_delta, summary.yoy_pct, kpi=kpi, t=t),
    )
    why = kpi.why.get(t.locale)
    return Section(
        title=f"{_signal(summary)} {name}",
        lines=(bk.escape(narrative(summary, t)), numbers),
        note=t("digest.monthly.why", why=bk.escape(why)) if why else None,
    )


def monthly_doc(digest: MonthlyDigest, *, settings: Settings, t: Translator) -> DigestDoc:
    """The monthly KPI digest as a document (see :func:`to_message` and :func:`to_text`)."""
    period = digest.period
    title = t("digest.monthly.title", period=period.label)
    subtitle = _period_range(period, t)
    if digest.empty:
        line = t("digest.monthly.empty", period=period.label)
        return DigestDoc(title, subtitle, (Section(lines=(line,)),), None, fallback=line)
    sections: list[Section] = [Section(title=t("digest.monthly.kpis_title"))]
    sections += [_kpi_section(summary, t) for summary in digest.kpis]
    if digest.best_posts:
        best = tuple(
            _post_line(i, top, settings=settings, t=t) for i, top in enumerate(digest.best_posts, start=1)
        )
    else:
        best = (t("digest.weekly.no_top_posts", min=fmt_number(digest.min_impressions)),)
    sections.append(Section(title=t("digest.monthly.best_posts_title"), lines=best))
    team = [
        t("digest.monthly.team_posts", count=fmt_number(digest.posts_published)),
        t(
            "digest.monthly.team_requesters",
            count=len(digest.requesters),
            people=_people(digest.requesters, t) or t("digest.words.nobody"),
        ),
        t(
            "digest.monthly.team_reviewers",
            count=len(digest.reviewers),
            people=_people(digest.reviewers, t) or t("digest.words.nobody"),
        ),
        t(
            "digest.monthly.team_reviews",
            count=fmt_number(digest.reviews_completed),
            median=fmt_hours(digest.median_cycle_hours, t),
        ),
        t("digest.monthly.team_wins", count=fmt_number(len(digest.wins))),
    ]
    sections.append(Section(title=t("digest.monthly.team_title"), lines=tuple(team)))
    if digest.top_reasons:
        reasons = tuple(
            t(
                "digest.monthly.reason_line",
                rank=i,
                reason=bk.escape(reason_label(key, settings=settings, t=t)),
                count=n,
            )
            for i, (key, n) in enumerate(digest.top_reasons, start=1)
        )
        sections.append(Section(title=t("digest.monthly.reasons_title"), lines=reasons))
    fallback_lines = [t("digest.monthly.fallback", period=period.label)]
    fallback_lines += [narrative(summary, t) for summary in digest.kpis]
    return DigestDoc(title, subtitle, tuple(sections), t("digest.monthly.closing"), "\n".join(fallback_lines))


# ---------------------------------------------------------------------------------------------
# Slack
# ---------------------------------------------------------------------------------------------


def _shown_lines(section: Section, t: Translator, limit: int) -> list[str]:
    """The section's lines as they fit in ``limit`` characters, closed by "…and N more" when cut."""
    head = f"*{section.title}*" if section.title else ""
    cap = len(section.lines) if section.max_items is None else min(section.max_items, len(section.lines))
    out: list[str] = []
    used = len(head)
    for line in section.lines[:cap]:
        if used + 1 + len(line) > limit - _MORE_RESERVE:
            break
        out.append(line)
        used += 1 + len(line)
    rest = len(section.lines) - len(out)
    if rest:
        out.append(t("common.words.and_more", count=rest))
    return out


def _section_blocks(section: Section, t: Translator) -> list[Block]:
    out: list[Block] = []
    if section.lines or section.title:
        lines = _shown_lines(section, t, bk.SECTION_MAX)
        head = [f"*{section.title}*"] if section.title else []
        out.append(bk.mrkdwn("\n".join(head + lines)))
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
    budget = (
        bk.MESSAGE_TEXT_BUDGET - _MORE_RESERVE - sum(bk.block_text_length(b.to_dict()) for b in head + tail)
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


def weekly_message(digest: WeeklyDigest, *, settings: Settings, t: Translator, channel: str) -> bk.Message:
    doc = weekly_doc(digest, settings=settings, t=t, tz=settings.tz)
    meta = digest_metadata(kind="weekly", period=digest.period.label, channel=channel)
    return to_message(doc, metadata=meta, t=t)


def monthly_message(digest: MonthlyDigest, *, settings: Settings, t: Translator, channel: str) -> bk.Message:
    doc = monthly_doc(digest, settings=settings, t=t)
    meta = digest_metadata(kind="monthly", period=digest.period.label, channel=channel)
    return to_message(doc, metadata=meta, t=t)


# ---------------------------------------------------------------------------------------------
# Terminal
# ---------------------------------------------------------------------------------------------

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
        for line in _shown_lines(section, t, limit=10**9):
            out.append("  " + clean(line).replace("\n", "\n  "))
        if section.note:
            out.append("  " + clean(section.note))
    if doc.closing:
        out += ["", clean(doc.closing)]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Attachments of the monthly digest
# ---------------------------------------------------------------------------------------------


def chart_series(digest: MonthlyDigest, *, locale: Locale) -> list[Series]:
    """One chart series per KPI: the 12 months ending with the digest's month, against targets."""
    return [
        Series(
            title=summary.kpi.name.get(locale),
            unit=summary.kpi.unit,
            labels=[p.month for p in summary.history],
            values=[p.value for p in summary.history],
            targets=[p.target for p in summary.history],
            better=summary.kpi.better,
        )
        for summary in digest.kpis
    ]


def build_kpi_csv(digest: MonthlyDigest, *, t: Translator) -> bytes:
    """The month's KPI table as CSV (UTF-8 with BOM, so Excel opens Japanese text correctly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = (
        "kpi",
        "name",
        "month",
        "value",
        "target",
        "achievement",
        "mom",
        "mom_pct",
        "last_year",
        "yoy_pct",
        "unit",
    )
    writer.writerow([t(f"digest.csv.{c}") for c in columns])

    def num(value: float | None, decimals: int) -> str:
        return "" if value is None else f"{value:.{decimals}f}"

    for s in digest.kpis:
        d = s.kpi.decimals
        writer.writerow(
            [
                s.kpi.key,
                s.kpi.name.get(t.locale),
                s.month,
                num(s.value, d),
                num(s.target, d),
                num(s.achievement, 1),
                num(s.mom_delta, d),
                num(s.mom_pct, 1),
                num(s.last_year, d),
                num(s.yoy_pct, 1),
                s.kpi.unit,
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# "Share as SNS win"
# ---------------------------------------------------------------------------------------------


def build_win_modal(*, target: WinTarget, message_text: str, settings: Settings, t: Translator) -> View:
    """The small modal the message shortcut opens: what happened, and optionally the KPI it moved."""
    blocks: list[Block] = []
    excerpt = _excerpt(message_text, 280)
    if excerpt:
        blocks.append(bk.context(t("digest.win_modal.message", text=bk.escape(excerpt))))
    blocks.append(
        InputBlock(
            block_id=BlockId.WIN_WHAT,
            label=bk.plain(t("digest.win_modal.what_label")),
            element=PlainTextInputElement(
                action_id=ActionId.WIN_WHAT,
                multiline=True,
                max_length=1000,
                placeholder=bk.plain(t("digest.win_modal.what_placeholder"), 150),
            ),
        )
    )
    if settings.kpis:
        options = [Option(value=k.key, text=bk.plain(k.name.get(t.locale))) for k in settings.kpis[:100]]
        blocks.append(
            InputBlock(
                block_id=BlockId.WIN_KPI,
                label=bk.plain(t("digest.win_modal.kpi_label")),
                optional=True,
                element=StaticSelectElement(
                    action_id=ActionId.WIN_KPI,
                    placeholder=bk.plain(t("digest.win_modal.kpi_placeholder"), 150),
                    options=options,
                ),
            )
        )
    return View(
        type="modal",
        callback_id=CallbackId.WIN_MODAL,
        title=bk.plain(t("digest.win_modal.title"), 24),  # Slack: modal title ≤ 24 characters
        submit=bk.plain(t("digest.win_modal.submit"), 24),
        close=bk.plain(t("digest.win_modal.close"), 24),
        private_metadata=target.encode(),
        blocks=blocks,
    )


@dataclass(frozen=True, slots=True)
class WinInput:
    what: str
    kpi_key: str | None


def parse_win_modal(view: Mapping[str, Any], *, settings: Settings) -> tuple[WinInput | None, dict[str, str]]:
    """The submitted win, or catalog keys of problems by block id (shown inline in the modal)."""
    values = view.get("state", {}).get("values", {})
    typed = values.get(BlockId.WIN_WHAT, {}).get(ActionId.WIN_WHAT, {}).get("value")
    # NUL goes: no keyboard types it, and PostgreSQL text cannot store it.
    what = typed.replace("\x00", "").strip() if isinstance(typed, str) else ""
    selected = values.get(BlockId.WIN_KPI, {}).get(ActionId.WIN_KPI, {}).get("selected_option") or {}
    kpi_key = selected.get("value") or None
    problems: dict[str, str] = {}
    if not what:
        problems[BlockId.WIN_WHAT] = "digest.errors.win_empty"
    if kpi_key is not None and settings.kpi_def(kpi_key) is None:
        problems[BlockId.WIN_KPI] = "digest.errors.unknown_kpi"
    if problems:
        return None, problems
    return WinInput(what=what[:1000], kpi_key=kpi_key), {}


def build_win_saved_view(*, next_digest: str, t: Translator) -> View:
    """What the modal turns into after a win is submitted."""
    return View(
        type="modal",
        title=bk.plain(t("digest.win_modal.title"), 24),
        close=bk.plain(t("digest.win_modal.done"), 24),
        blocks=[bk.mrkdwn(t("digest.win_modal.saved", when=next_digest))],
    )


def build_admin_failure_text(*, kind: str, period: str, channel: str, error: str, t: Translator) -> str:
    """The one DM admins get when a digest cannot be posted for a reason retrying will not fix."""
    return t(
        "digest.errors.admin_failed",
        kind=t(f"digest.kinds.{kind}"),
        period=period,
        channel=channel,
        error=error,
    )


def build_admin_late_text(
    *, kind: str, period: str, channel: str, error: str, days: float, unverified: bool, t: Translator
) -> str:
    """The one DM admins get when a digest is late (an attempt failed; it is retried), or when it
    cannot be checked whether a post went through (the bot cannot read the channel)."""
    return t(
        "digest.admin.unverified" if unverified else "digest.admin.late",
        kind=t(f"digest.kinds.{kind}"),
        period=period,
        channel=channel,
        error=error,
        days=f"{days:g}",
    )


def build_admin_out_text(*, kind: str, period: str, channel: str, found: bool, t: Translator) -> str:
    """The one DM admins get when a digest they were told was late is in the channel after all."""
    return t(
        "digest.admin.found" if found else "digest.admin.out",
        kind=t(f"digest.kinds.{kind}"),
        period=period,
        channel=channel,
    )
