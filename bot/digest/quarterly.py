"""The quarterly KPI digest's arithmetic: each KPI over the fiscal quarter against its months' summed
(or averaged) targets, compared with the previous quarter and the same quarter a year before (pure).

The quarterly digest is a :class:`~bot.digest.compose.MonthlyDigest` whose period is a quarter: the
same sections (KPIs, best posts, team, reasons) over three months, so every rendering (Slack, the
terminal, the PDF page) serves both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.config import KpiSettings
from bot.digest.compose import (
    ActivityFacts,
    KpiPoint,
    KpiSummary,
    MonthlyDigest,
    compose_monthly,
)
from bot.kpi.rollup import roll_up
from bot.kpi.status import PostStats
from bot.workdays import WorkCalendar

#: Months of KPI history a quarterly digest reads: the same quarter last year … this quarter.
HISTORY_MONTHS = 15


def summarize_quarter(
    kpi: KpiSettings, points: Sequence[KpiPoint], *, stats: Mapping[str, PostStats] | None = None
) -> KpiSummary:
    """One KPI's quarter from its 15 months (the same quarter last year … this quarter, oldest first).

    Fewer points are accepted: the comparisons they cannot make are left out.
    """
    if len(points) < 3:
        raise ValueError("a quarter needs its three months")
    quarter = roll_up(kpi, points[-3:], stats=stats)
    previous = roll_up(kpi, points[-6:-3], stats=stats) if len(points) >= 6 else None
    last_year = roll_up(kpi, points[-15:-12], stats=stats) if len(points) >= 15 else None
    return KpiSummary(
        kpi=kpi,
        month=points[-1].month,
        value=quarter.value,
        target=quarter.target,
        previous=None if previous is None else previous.value,
        last_year=None if last_year is None else last_year.value,
        history=tuple(points[-12:]),
    )


def compose_quarterly(
    facts: ActivityFacts,
    *,
    kpis: Sequence[KpiSettings],
    history: Mapping[str, Sequence[KpiPoint]],
    stats: Mapping[str, Mapping[str, PostStats]],
    min_impressions: int,
    best_n: int,
    calendar: WorkCalendar | None = None,
) -> MonthlyDigest:
    """The quarterly KPI digest for ``facts.period`` (a quarter); ``history`` holds 15 months per KPI,
    ``stats`` the engagement-rate KPIs' post sums per month; review times in ``calendar``'s working hours."""
    digest = compose_monthly(
        facts, kpis=(), history={}, min_impressions=min_impressions, best_n=best_n, calendar=calendar
    )
    summaries = tuple(
        summarize_quarter(kpi, history[kpi.key], stats=stats.get(kpi.key))
        for kpi in kpis
        if len(history.get(kpi.key, ())) >= 3
    )
    return replace(digest, kpis=summaries)
