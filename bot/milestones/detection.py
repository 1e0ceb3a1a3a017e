"""Milestone rules over store facts: a KPI's best month ever, target met N months in a row, the best
post of a quarter, a round number of posts or followers crossed lately; and which month and quarter
are ripe for judging (pure).

Finished periods only: a month is judged from ``settle_days`` after it ended (late imports land
first), so "best month ever" never compares a half month; a quarter is judged in the month after it
(settled), and never again later (a first deployment does not celebrate last year's best post).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.config import KpiSettings
from bot.kpi.kinds import Better, better
from bot.kpi.status import KpiMonth, meets_target
from bot.milestones.ids import TEAM, MilestoneKind
from bot.milestones.records import Found
from bot.periods import Period, month_of


@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    """A calendar quarter: local dates ``start`` ≤ d < ``end``."""

    start: date
    end: date

    @property
    def label(self) -> str:
        return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"


def quarter_of(day: date) -> Quarter:
    first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    end = date(first.year + 1, 1, 1) if first.month == 10 else date(first.year, first.month + 3, 1)
    return Quarter(first, end)


def judged_month(today: date, *, settle_days: int) -> Period:
    """The month judged on local ``today``: the last one that ended at least ``settle_days`` ago."""
    return month_of(today - timedelta(days=settle_days)).previous()


def judged_quarter(today: date, *, settle_days: int) -> Quarter | None:
    """The quarter judged on local ``today``: the last finished one, only during the first month after
    it settled (``None`` otherwise)."""
    settled = today - timedelta(days=settle_days)
    if settled.month not in (1, 4, 7, 10):
        return None
    return quarter_of(settled.replace(day=1) - timedelta(days=1))


def _higher(kpi: KpiSettings) -> bool:
    return better(kpi) is Better.HIGHER


def _beats(kpi: KpiSettings, value: float, other: float) -> bool:
    """Strictly better (float noise is a tie, not a record)."""
    if math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-12):
        return False
    return value > other if _higher(kpi) else value < other


def kpi_record(kpi: KpiSettings, months: Sequence[KpiMonth], *, min_history: int) -> Found | None:
    """The last of ``months`` (oldest first) is ``kpi``'s best month ever, after at least
    ``min_history`` earlier months with a value (lowest, for a lower-is-better KPI)."""
    if not months or months[-1].value is None:
        return None
    current = months[-1]
    earlier = [m.value for m in months[:-1] if m.value is not None]
    if len(earlier) < min_history:
        return None
    best = max(earlier) if _higher(kpi) else min(earlier)
    if current.value is None or not _beats(kpi, current.value, best):
        return None
    return Found(MilestoneKind.KPI_RECORD, kpi.key, current.month, value=current.value, previous=best)


def met_target(kpi: KpiSettings, month: KpiMonth) -> bool:
    """The month reached its target (stayed at or under it, for a lower-is-better KPI), as every
    surface reads it (:func:`bot.kpi.status.meets_target`)."""
    return meets_target(month.value, month.target, better(kpi)) is True


def target_streak(kpi: KpiSettings, months: Sequence[KpiMonth], *, every: int) -> Found | None:
    """The months up to the last of ``months`` met the target ``every``, 2 × ``every`` … in a row."""
    count = 0
    for month in reversed(months):
        if not met_target(kpi, month):
            break
        count += 1
    if count < every or count % every:
        return None
    first, last = months[-count].month, months[-1].month
    return Found(
        MilestoneKind.TARGET_STREAK,
        kpi.key,
        f"{last}:{count}",
        value=float(count),
        detail={"since": first, "until": last},
    )


def round_number(
    kind: MilestoneKind, subject: str, *, before: int | None, now: int | None, steps: Sequence[int]
) -> Found | None:
    """The largest of ``steps`` crossed between ``before`` (the count at the window's start) and
    ``now``. Without a count from before, nothing: the crossing may be years old."""
    if before is None or now is None:
        return None
    crossed = [step for step in steps if before < step <= now]
    if not crossed:
        return None
    step = max(crossed)
    return Found(kind, subject, str(step), value=float(now), previous=float(before))


@dataclass(frozen=True, slots=True)
class PostCandidate:
    """A post of the quarter with its figures (the best one by engagement rate is a milestone)."""

    account_key: str
    url: str | None
    text: str
    published_at: datetime
    impressions: int
    engagements: int

    @property
    def rate(self) -> float:
        return self.engagements / self.impressions * 100


def best_post(quarter: Quarter, post: PostCandidate | None) -> Found | None:
    """The quarter's best post (``post`` is the store's top one by rate, above the impressions floor)."""
    if post is None or post.impressions <= 0:
        return None
    return Found(
        MilestoneKind.BEST_POST,
        TEAM,
        quarter.label,
        value=post.rate,
        detail={
            "account": post.account_key,
            "url": post.url,
            "text": post.text[:500],
            "impressions": post.impressions,
            "engagements": post.engagements,
            "published_at": post.published_at.isoformat(),
        },
    )
