"""How a KPI is doing: month values, pace and change vs last month, and derived month values from the
store's per-account aggregates (pure).

Shared by the store's reads (:mod:`bot.kpi.queries`), the Slack answers (``ui``), the App Home and
the digests, so none of them needs the store to reason about a number.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from bot.config import KpiSettings
from bot.kpi.kinds import DAILY_SUMS, Aggregate, Better, Derivation, aggregate, better, derivation


@dataclass(frozen=True, slots=True)
class KpiMonth:
    """One KPI's value and target for one calendar month.

    Attributes:
        kpi: the KPI key.
        month: ``YYYY-MM``.
        value: the month's value per the contract; ``None`` when nothing was recorded or derived.
        target: the latest ``/sns-kpi target`` for that month, else the config target.
    """

    kpi: str
    month: str
    value: float | None
    target: float | None


# ---------------------------------------------------------------------------------------------
# On target: the one meaning of "% of target" and "met", for every surface (pure)
# ---------------------------------------------------------------------------------------------


def achievement(value: float | None, target: float | None, better: Better | str) -> float | None:
    """Percent of target, where 100 % is exactly on target and more is better in both directions.

    Higher is better: value ÷ target × 100. Lower is better: target ÷ value × 100 (a cost of 7,500
    against a target of 10,000 is 133 %; 12,500 is 80 %). ``None`` when there is nothing to
    compare: no value or target, a target that is not positive, or (lower is better) a value that
    is not positive, where a ratio would say nothing. ``/sns-kpi``, the App Home, the digests and
    the chart all read achievement through this function, so one month reads one figure.
    """
    if value is None or target is None or target <= 0:
        return None
    if Better(better) is Better.LOWER:
        return None if value <= 0 else target / value * 100
    return value / target * 100


def meets_target(value: float | None, target: float | None, better: Better | str) -> bool | None:
    """Whether ``value`` is on target in the KPI's good direction (``None``: nothing to compare).

    Agrees with :func:`achievement` wherever that has a figure: met ⇔ achievement ≥ 100 %.
    """
    if value is None or target is None:
        return None
    return value >= target if Better(better) is Better.HIGHER else value <= target


# ---------------------------------------------------------------------------------------------
# Status: how a KPI is doing this month (pure)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KpiStatus:
    """One KPI's month at a glance.

    Attributes:
        achievement: percent of target per :func:`achievement` (lower is better: target ÷ value).
        expected: what the value should be by now to end on target (sum KPIs: target × share of
            the month elapsed; others: the target itself).
        on_track: value meets ``expected`` in the good direction; ``None`` when unknown.
        change: value − last month's value; ``change_pct`` the same relative to last month.
        good: ``change`` points in the good direction (``None`` when there is no change to judge).
    """

    kpi: KpiSettings
    value: float | None
    target: float | None
    previous: float | None
    achievement: float | None
    expected: float | None
    on_track: bool | None
    change: float | None
    change_pct: float | None
    good_change: bool | None


#: Derived KPIs whose month value accumulates over the month (every one but a rate).
_ACCUMULATING = frozenset(
    {
        Derivation.IMPRESSIONS,
        Derivation.ENGAGEMENTS,
        Derivation.POSTS_PUBLISHED,
        Derivation.FOLLOWER_GROWTH,
        *DAILY_SUMS,
        # More managers have taken part as the month goes on.
        Derivation.MANAGER_PARTICIPATION,
    }
)


def grows_with_time(kpi: KpiSettings) -> bool:
    """True when the month's value accumulates over the month (so pace scales the target)."""
    if aggregate(kpi) is Aggregate.SUM:
        return True
    return derivation(kpi) in _ACCUMULATING


def assess(kpi: KpiSettings, current: KpiMonth, previous: KpiMonth | None, *, elapsed: float) -> KpiStatus:
    """Compare a month with its target and the month before (``elapsed`` ∈ [0, 1] of the month)."""
    value, target = current.value, current.target
    higher = better(kpi) is Better.HIGHER
    prev = previous.value if previous is not None else None
    achieved = achievement(value, target, better(kpi))
    expected: float | None = None
    on_track: bool | None = None
    if target is not None:
        expected = target * elapsed if grows_with_time(kpi) else target
        if value is not None:
            on_track = value >= expected if higher else value <= expected
    change = value - prev if value is not None and prev is not None else None
    change_pct = change / abs(prev) * 100 if change is not None and prev else None
    good_change = None
    if change is not None and change != 0:
        good_change = change > 0 if higher else change < 0
    return KpiStatus(kpi, value, target, prev, achieved, expected, on_track, change, change_pct, good_change)


# ---------------------------------------------------------------------------------------------
# Derived month values from the store's per-account aggregates (pure)
# ---------------------------------------------------------------------------------------------


def _plus(a: int | None, b: int | None) -> int | None:
    """SQL ``SUM`` semantics across groups: ``None`` only when both sides are ``None``."""
    if a is None:
        return b
    return a if b is None else a + b


@dataclass(frozen=True, slots=True)
class PostStats:
    """Count and sums of the posts of one month (and one account, or several added up).

    Attributes:
        rate_engagements / rate_impressions: Σ over posts that have both figures, so a post
            without impressions cannot inflate the engagement rate.
    """

    posts: int
    impressions: int | None
    engagements: int | None
    rate_engagements: int | None
    rate_impressions: int | None

    def __add__(self, other: PostStats) -> PostStats:
        return PostStats(
            self.posts + other.posts,
            _plus(self.impressions, other.impressions),
            _plus(self.engagements, other.engagements),
            _plus(self.rate_engagements, other.rate_engagements),
            _plus(self.rate_impressions, other.rate_impressions),
        )

    def value(self, derive: Derivation) -> float | None:
        """The month value of a post-derived KPI (``posts_published``, ``impressions``, …)."""
        if derive == Derivation.POSTS_PUBLISHED:
            return float(self.posts)
        if derive == Derivation.IMPRESSIONS:
            return None if self.impressions is None else float(self.impressions)
        if derive == Derivation.ENGAGEMENTS:
            return None if self.engagements is None else float(self.engagements)
        if derive == Derivation.ENGAGEMENT_RATE:
            if not self.rate_impressions or self.rate_engagements is None:
                return None
            return self.rate_engagements / self.rate_impressions * 100
        raise ValueError(f"unknown derivation {derive!r}")


NO_POSTS = PostStats(0, None, None, None, None)


def post_stats_for(
    per_account: Mapping[tuple[str, str], PostStats], *, accounts: Collection[str]
) -> dict[str, PostStats]:
    """Per month label: the stats of ``accounts``' posts (every account when empty), added up
    from the store's rows per (month label, account)."""
    out: dict[str, PostStats] = {}
    for (label, account), stats in per_account.items():
        if not accounts or account in accounts:
            out[label] = out.get(label, NO_POSTS) + stats
    return out


#: The key of an account's last follower count before the first month, in ``follower_growth``'s input.
BEFORE = "before"


def follower_growth(
    counts: Mapping[str, Mapping[str, int]], *, months: Sequence[str], accounts: Collection[str]
) -> dict[str, float | None]:
    """Per month label: Σ over ``accounts`` (every account when empty) of (the last follower count
    in the month − the last count before it).

    Args:
        counts: per account, the last count of each month label that has one, plus
            :data:`BEFORE`: the last count before the first month.
        months: month labels, oldest first.
    """
    totals: dict[str, float | None] = dict.fromkeys(months)
    for account, per_month in counts.items():
        if accounts and account not in accounts:
            continue
        baseline = per_month.get(BEFORE)
        for label in months:
            current = per_month.get(label)
            if current is None:
                continue
            if baseline is not None:
                totals[label] = (totals[label] or 0.0) + (current - baseline)
            baseline = current
    return totals
