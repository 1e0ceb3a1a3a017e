"""Milestones as people read them: one line each (the weekly digest's "🎉 Milestones" section and the
announcement share it) and the announcement message with its "open the KPI" button (pure)."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.config import KpiSettings, Settings
from bot.i18n import Translator
from bot.kpi.ids import ActionId as KpiActionId
from bot.kpi.numbers import format_value
from bot.kpi.ui import month_label
from bot.milestones.ids import MilestoneKind
from bot.milestones.records import Found
from bot.periods import PeriodKind, parse_period, quarter_label, quarter_of
from bot.slack import blocks as bk

#: Characters of a post's text shown in its line.
POST_TEXT_MAX = 80


def _count(value: float | None) -> str:
    return f"{int(value or 0):,}"


def _month(t: Translator, label: str) -> str:
    return month_label(t, parse_period(PeriodKind.MONTHLY, label))


def _quarter(t: Translator, found: Found, settings: Settings) -> str:
    """The fiscal quarter of a best post (``q2026-04``), as the quarterly digest names it; a mark of the
    first release (``2026-Q4``) was a calendar quarter and reads as one."""
    mark = found.mark
    if not mark.startswith("q"):
        year, quarter = mark.split("-Q")
        return t("milestones.words.quarter", year=int(year), quarter=int(quarter))
    start = date(int(mark[1:5]), int(mark[6:8]), 1)
    fiscal_start = int(found.detail.get("fiscal_start") or settings.fiscal_year_start)
    if (start.month - fiscal_start) % 3:  # the config changed since: name it by its own months
        fiscal_start = start.month
    return quarter_label(quarter_of(start, fiscal_start), t)


def _kpi_value(kpi: KpiSettings | None, value: float | None) -> str:
    if value is None:
        return "—"
    return format_value(kpi, value) if kpi is not None else f"{value:,.2f}".rstrip("0").rstrip(".")


def _account(settings: Settings, key: str) -> str:
    account = settings.account(key)
    return bk.escape(account.name if account is not None and account.name else key)


def subject_kpi(settings: Settings, found: Found) -> KpiSettings | None:
    """The configured KPI a milestone is about (``None``: not about a KPI, or no longer configured)."""
    if found.kind in (MilestoneKind.KPI_RECORD, MilestoneKind.TARGET_STREAK):
        return settings.kpi_def(found.subject)
    return None


def _post(found: Found, t: Translator) -> str:
    text = " ".join(str(found.detail.get("text") or "").split())
    label = bk.truncate(text, POST_TEXT_MAX) if text else t("milestones.words.untitled_post")
    url = found.detail.get("url")
    return bk.link(str(url), label) if url else bk.escape(label)


def milestone_line(found: Found, *, settings: Settings, t: Translator) -> str:
    """One milestone in one mrkdwn line (user and platform text escaped)."""
    kpi = subject_kpi(settings, found)
    name = bk.escape(kpi.name.get(t.locale) if kpi is not None else found.subject)
    if found.kind is MilestoneKind.KPI_RECORD:
        key = "record_lower" if kpi is not None and kpi.better == "lower" else "record_higher"
        return t(
            f"milestones.line.{key}",
            name=name,
            month=_month(t, found.mark),
            value=_kpi_value(kpi, found.value),
            previous=_kpi_value(kpi, found.previous),
        )
    if found.kind is MilestoneKind.TARGET_STREAK:
        return t(
            "milestones.line.streak",
            name=name,
            count=_count(found.value),
            since=_month(t, str(found.detail.get("since") or found.mark[:7])),
            until=_month(t, str(found.detail.get("until") or found.mark[:7])),
        )
    if found.kind is MilestoneKind.BEST_POST:
        return t(
            "milestones.line.best_post",
            quarter=_quarter(t, found, settings),
            rate=f"{found.value or 0:.1f}%",
            post=_post(found, t),
            account=_account(settings, str(found.detail.get("account") or "")),
            engagements=_count(found.detail.get("engagements")),
            impressions=_count(found.detail.get("impressions")),
        )
    if found.kind is MilestoneKind.POSTS_TOTAL:
        return t("milestones.line.posts_total", count=_count(float(found.mark)))
    return t(
        "milestones.line.followers",
        account=_account(settings, found.subject),
        count=_count(float(found.mark)),
        now=_count(found.value),
    )


def digest_title(t: Translator) -> str:
    """The weekly digest's section title."""
    return t("milestones.digest.title")


def build_announcement(found: Found, *, settings: Settings, t: Translator) -> bk.Message:
    """The team channel's post the moment a milestone is detected: the line, the KPI's "why" and a
    button that opens ``/sns-kpi KEY`` for whoever clicks it."""
    line = milestone_line(found, settings=settings, t=t)
    blocks: list[Block] = [bk.header(t("milestones.announce.title")), bk.mrkdwn(line)]
    kpi = subject_kpi(settings, found)
    if kpi is not None:
        blocks.append(bk.context(t("milestones.announce.why", why=bk.escape(kpi.why.get(t.locale)))))
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=bk.plain(t("milestones.announce.open_kpi", cmd=settings.slack.kpi_command)),
                        action_id=KpiActionId.OPEN_DETAIL.value,
                        value=kpi.key,
                    )
                ]
            )
        )
    blocks.append(bk.context(t("milestones.announce.invite")))
    return bk.Message(text=t("milestones.announce.fallback", line=line), blocks=bk.fit_blocks(blocks))
