"""The monthly KPI digest as a document and as its Slack message (pure)."""

from __future__ import annotations

from bot.config import Settings
from bot.digest.compose import KpiSummary, MonthlyDigest
from bot.digest.ids import digest_metadata
from bot.digest.ui.document import DigestDoc, Section, people, period_range, post_line
from bot.digest.ui.message import to_message
from bot.digest.ui.numbers import fmt_abs_delta, fmt_change, fmt_hours, fmt_number, fmt_pct, fmt_value
from bot.i18n import Translator
from bot.participation.ids import SectionMode
from bot.participation.ui import digest_section
from bot.periods import PeriodKind
from bot.slack import blocks as bk


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
    delta = fmt_abs_delta(summary.mom_delta, kpi, t)
    return t(f"digest.narrative.{direction}", name=name, delta=delta, value=value, vs_target=vs_target)


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
    """The monthly KPI digest as a document (see ``ui.message.to_message`` and ``ui.text.to_text``)."""
    period = digest.period
    title = t("digest.monthly.title", period=period.label)
    subtitle = period_range(period, t)
    if digest.empty:
        line = t("digest.monthly.empty", period=period.label)
        return DigestDoc(title, subtitle, (Section(lines=(line,)),), None, fallback=line)
    sections: list[Section] = [Section(title=t("digest.monthly.kpis_title"))]
    sections += [_kpi_section(summary, t) for summary in digest.kpis]
    if digest.best_posts:
        best = tuple(
            post_line(i, top, settings=settings, t=t) for i, top in enumerate(digest.best_posts, start=1)
        )
    else:
        best = (t("digest.weekly.no_top_posts", min=fmt_number(digest.min_impressions)),)
    sections.append(Section(title=t("digest.monthly.best_posts_title"), lines=best))
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
    fallback_lines = [t("digest.monthly.fallback", period=period.label)]
    fallback_lines += [narrative(summary, t) for summary in digest.kpis]
    return DigestDoc(title, subtitle, tuple(sections), t("digest.monthly.closing"), "\n".join(fallback_lines))


def monthly_message(digest: MonthlyDigest, *, settings: Settings, t: Translator, channel: str) -> bk.Message:
    doc = monthly_doc(digest, settings=settings, t=t)
    meta = digest_metadata(kind=PeriodKind.MONTHLY, period=digest.period.label, channel=channel)
    return to_message(doc, metadata=meta, t=t)
