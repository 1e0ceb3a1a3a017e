"""The weekly wins digest as a document and as its Slack message (pure)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.digest.compose import WaitingFact, WeeklyDigest, WinFact
from bot.digest.ids import digest_metadata
from bot.digest.ui.document import (
    LIST_MAX,
    DigestDoc,
    Section,
    account_name,
    people,
    period_range,
    post_line,
)
from bot.digest.ui.message import to_message
from bot.digest.ui.numbers import fmt_hours, fmt_number
from bot.i18n import Translator
from bot.milestones import ui as milestones_ui
from bot.participation.ui import weekly_note
from bot.periods import PeriodKind
from bot.slack import blocks as bk

#: Characters of a win's text shown in its line.
WIN_TEXT_MAX = 300


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
        account=bk.escape(account_name(settings, item.account_key)),
        since=since,
    )
    if item.reviewers:
        line += t("digest.weekly.waiting_reviewers", reviewers=people(item.reviewers, t, limit=5))
    if item.channel_id and item.message_ts:
        line += " " + bk.link(_message_url(item.channel_id, item.message_ts), t("digest.weekly.open_review"))
    return line


def weekly_doc(digest: WeeklyDigest, *, settings: Settings, t: Translator, tz: ZoneInfo) -> DigestDoc:
    """The weekly wins digest as a document (see ``ui.message.to_message`` and ``ui.text.to_text``)."""
    period = digest.period
    title = t("digest.weekly.title", period=period.label)
    subtitle = period_range(period, t)
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
    if digest.milestones:
        sections.append(
            Section(
                title=milestones_ui.digest_title(t),
                lines=tuple(
                    milestones_ui.milestone_line(m, settings=settings, t=t) for m in digest.milestones
                ),
                max_items=LIST_MAX,
            )
        )
    if digest.top_posts:
        lines = tuple(
            post_line(i, top, settings=settings, t=t) for i, top in enumerate(digest.top_posts, start=1)
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
        shout.append(t("digest.weekly.shout_authors", people=people(digest.authors, t)))
    if digest.reviewers:
        shout.append(t("digest.weekly.shout_reviewers", people=people(digest.reviewers, t)))
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
    closing = t("digest.weekly.closing")
    if digest.managers_reacted is not None:
        note = weekly_note(reacted=digest.managers_reacted, total=digest.managers_total, t=t)
        closing = f"{closing} {note}" if note else closing
    return DigestDoc(title, subtitle, tuple(sections), closing, fallback)


def weekly_message(digest: WeeklyDigest, *, settings: Settings, t: Translator, channel: str) -> bk.Message:
    doc = weekly_doc(digest, settings=settings, t=t, tz=settings.tz)
    meta = digest_metadata(kind=PeriodKind.WEEKLY, period=digest.period.label, channel=channel)
    return to_message(doc, metadata=meta, t=t)
