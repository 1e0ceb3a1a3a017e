"""The monthly KPI digest as a document and as its Slack message (pure); the quarterly digest is the
same document over a fiscal quarter, with its own title and comparisons (vs the previous quarter)."""

from __future__ import annotations

from bot.actions import ui as actions_ui
from bot.config import Settings
from bot.digest.compose import KpiSummary, MonthlyDigest
from bot.digest.ids import digest_metadata
from bot.digest.ui.document import DigestDoc, Section, people, period_range, post_line
from bot.digest.ui.message import to_message
from bot.digest.ui.numbers import fmt_abs_delta, fmt_change, fmt_hours, fmt_number, fmt_pct, fmt_value
from bot.i18n import Translator
from bot.kpi.glossary_ui import glossary_button
from bot.participation.ids import SectionMode
from bot.participation.ui import digest_section
from bot.periods import Period, PeriodKind, quarter_label
from bot.slack import blocks as bk


def _words(period: Period) -> str:
    """The catalog section of the words that differ between a month's digest and a quarter's."""
    return "quarterly.digest" if period.kind == PeriodKind.QUARTERLY else "digest.monthly"


def period_title(period: Period, t: Translator) -> str:
    """How the digest names its period: ``2026-11``, or ``2026年度 第3四半期（10〜12月）``."""
    return quarter_label(period, t) if period.kind == PeriodKind.QUARTERLY else period.label


def narrative(summary: KpiSummary, t: Translator, *, quarter: bool = False) -> str:
    """The KPI's month (or ``quarter``) in one sentence, e.g. "Engagement rate rose 0.4 pt to 3.4 %,
    113 % of target."."""
    kpi = summary.kpi
    name = kpi.name.get(t.locale)
    if summary.value is None:
        return t("digest.narrative.none", name=name, month=summary.month)
    words = "quarterly.narrative" if quarter else "digest.narrative"
    value = fmt_value(summary.value, unit=kpi.unit, decimals=kpi.decimals, t=t)
    achievement = summary.achievement
    vs_target = "" if achievement is None else t("digest.narrative.vs_target", pct=fmt_pct(achievement, t))
    direction = summary.direction()
    if direction is None:
        return t("digest.narrative.first", name=name, value=value, vs_target=vs_target)
    if direction == "flat":
        return t(f"{words}.flat", name=name, value=value, vs_target=vs_target)
    assert summary.mom_delta is not None
    delta = fmt_abs_delta(summary.mom_delta, kpi, t)
    # A rate goes up or down by points (上がる / 下がる); a count grows or shrinks (増える / 減る).
    key = f"{words}.{direction}_rate" if kpi.unit == "%" else f"{words}.{direction}"
    return t(key, name=name, delta=delta, value=value, vs_target=vs_target)


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


def _kpi_section(summary: KpiSummary, t: Translator, *, words: str = "digest.monthly") -> Section:
    kpi = summary.kpi
    name = bk.escape(kpi.name.get(t.locale))
    numbers = t(
        f"{words}.kpi_numbers",
        value=fmt_value(summary.value, unit=kpi.unit, decimals=kpi.decimals, t=t),
        target=fmt_value(summary.target, unit=kpi.unit, decimals=kpi.decimals, t=t),
        achievement=fmt_pct(summary.achievement, t),
        mom=fmt_change(summary.mom_delta, summary.mom_pct, kpi=kpi, t=t),
        yoy=fmt_change(summary.yoy_delta, summary.yoy_pct, kpi=kpi, t=t),
    )
    why = kpi.why.get(t.locale)
    return Section(
        title=f"{_signal(summary)} {name}",
        lines=(bk.escape(narrative(summary, t, quarter=words != "digest.monthly")), numbers),
        note=t("digest.monthly.why", why=bk.escape(why)) if why else None,
        accessory=glossary_button(kpi.key, t),
        role="kpi",
    )


def monthly_doc(digest: MonthlyDigest, *, settings: Settings, t: Translator) -> DigestDoc:
    """The monthly KPI digest as a document (see ``ui.message.to_message`` and ``ui.text.to_text``)."""
    period = digest.period
    words, named = _words(period), period_title(period, t)
    title = t(f"{words}.title", period=named)
    subtitle = period_range(period, t)
    if digest.empty:
        line = t(f"{words}.empty", period=named)
        return DigestDoc(title, subtitle, (Section(lines=(line,)),), None, fallback=line)
    sections: list[Section] = []
    if digest.memory is not None and not digest.memory.empty:  # the review opens with last month's actions
        memory = actions_ui.memory_lines(digest.memory, t)
        sections.append(Section(title=memory.title, lines=memory.lines, note=memory.note))
    if digest.kpis:
        sections.append(Section(title=t(f"{words}.kpis_title"), role="kpis"))
        sections += [_kpi_section(summary, t, words=words) for summary in digest.kpis]
    else:  # no chart or table follows in the thread either (bot.digest.render)
        sections.append(Section(title=t(f"{words}.kpis_title"), lines=(t("digest.monthly.no_kpi_values"),)))
    if digest.best_posts:
        best = tuple(
            post_line(i, top, settings=settings, t=t) for i, top in enumerate(digest.best_posts, start=1)
        )
    else:
        best = (t("digest.weekly.no_top_posts", min=fmt_number(digest.min_impressions)),)
    sections.append(Section(title=t(f"{words}.best_posts_title"), lines=best))
    team = [
        t("digest.monthly.team_posts", count=fmt_number(digest.posts_published)),
        t(
            "digest.monthly.team_requesters",
            count=len(digest.requesters),
            people=people(digest.requesters, t) or t("digest.words.nobody"),
        ),
        t(
            "digest.monthly.team_reviewers",
            count=len(digest.reviewers),
            people=people(digest.reviewers, t) or t("digest.words.nobody"),
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
    if digest.participation is not None:
        part = digest_section(
            digest.participation, mode=SectionMode(settings.digest.monthly.participation), t=t
        )
        if part is not None:
            sections.append(Section(title=part[0], lines=part[1]))
    fallback_lines = [t(f"{words}.fallback", period=named)]
    quarter = period.kind == PeriodKind.QUARTERLY
    fallback_lines += [narrative(summary, t, quarter=quarter) for summary in digest.kpis]
    # The monthly review's "Add an action item" (the quarterly digest is read, not reviewed).
    buttons = () if quarter else (actions_ui.add_button(period, t),)
    closing = t(f"{words}.closing") if digest.kpis else t("digest.monthly.closing_no_chart")
    return DigestDoc(title, subtitle, tuple(sections), closing, "\n".join(fallback_lines), buttons=buttons)


def monthly_message(digest: MonthlyDigest, *, settings: Settings, t: Translator, channel: str) -> bk.Message:
    doc = monthly_doc(digest, settings=settings, t=t)
    meta = digest_metadata(kind=digest.period.kind, period=digest.period.label, channel=channel)
    return to_message(doc, metadata=meta, t=t)
