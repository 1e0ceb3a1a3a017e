"""Milestone rules over store facts: a KPI's best month ever, target met N months in a row, the best
post of a quarter, a round number of posts or followers crossed lately; and which month and quarter
are ripe for judging (pure).

Finished periods only: a month is judged from ``settle_days`` after it ended (late imports land
first), so "best month ever" never compares a half month; a quarter is judged in the month after it
(settled), and never again later (a first deployment does not celebrate last year's best post).

Quarters are **fiscal** quarters (``fiscal_year_start``, April by default), as the quarterly digest
and ``/sns-kpi``'s roll-ups count them: a Japanese team reviews 第1四半期 as April to June. A quarter's
claim mark is its first month (``q2026-04``), which names it whatever the fiscal year start. Marks of
the first release were calendar labels (``2026-Q2`` = April to June); a fiscal quarter with the same
dates as one of those is the same quarter, so it is not announced again (:func:`legacy_twin`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bot.config import KpiSettings
from bot.kpi.kinds import Better, better
from bot.kpi.status import KpiMonth, meets_target
from bot.milestones.ids import TEAM, MilestoneKind
from bot.milestones.records import Found
from bot.periods import Period, month_of, quarter_of


def quarter_mark(quarter: Period) -> str:
    """The claim mark of a quarter's best post: its first month (``q2026-04``)."""
    return f"q{quarter.start:%Y-%m}"


def legacy_twin(found: Found) -> Found | None:
    """The same milestone under the first release's calendar-quarter mark (``2026-Q2``), when the
    fiscal quarter it is about has a calendar quarter's dates; ``None`` otherwise."""
    if found.kind is not MilestoneKind.BEST_POST or not found.mark.startswith("q"):
        return None
    year, month = int(found.mark[1:5]), int(found.mark[6:8])
    if month not in (1, 4, 7, 10):
        return None
    return replace(found, mark=f"{year:04d}-Q{(month - 1) // 3 + 1}")


def judged_month(today: date, *, settle_days: int) -> Period:
    """The month judged on local ``today``: the last one that ended at least ``settle_days`` ago."""
    return month_of(today - timedelta(days=settle_days)).previous()


def judged_quarter(today: date, *, settle_days: int, fiscal_start: int = 1) -> Period | None:
    """The fiscal quarter (of a year starting in month ``fiscal_start``) judged on local ``today``:
    the last finished one, only during the first month after it settled (``None`` otherwise)."""
    settled = today - timedelta(days=settle_days)
    current = quarter_of(settled, fiscal_start)
    if settled.month != current.start.month:
        return None
    return current.previous()


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


def best_post(quarter: Period, post: PostCandidate | None) -> Found | None:
    """The fiscal quarter's best post (``post`` is the store's top one by rate, above the impressions
    floor)."""
    if post is None or post.impressions <= 0:
        return None
    return Found(
        MilestoneKind.BEST_POST,
        TEAM,
        quarter_mark(quarter),
        value=post.rate,
        detail={
            "fiscal_start": quarter.fiscal_start,
            "account": post.account_key,
            "url": post.url,
            "text": post.text[:500],
            "impressions": post.impressions,
            "engagements": post.engagements,
            "published_at": post.published_at.isoformat(),
        },
    )
