"""The pace rule: whether a KPI is behind the linear pace to its monthly target, by how much, and what
it takes per remaining business day to end the month on target (pure).

"Where pace says it should be" is :func:`bot.kpi.status.assess`'s ``expected`` — the same number
``/sns-kpi`` shows — so an alert and the answer its button opens agree: a total (sum KPIs, posts,
impressions, follower growth) is expected at target × the share of the month elapsed; a level (a
rate, a mean, a last value) at its target. For a lower-is-better KPI the pace is a ceiling: it is
behind when it is *over* the pace, and what remains is an allowance, not a need.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import KpiSettings
from bot.kpi.kinds import Better, better
from bot.kpi.status import KpiMonth, assess, grows_with_time


@dataclass(frozen=True, slots=True)
class Pace:
    """One KPI against its pace at one moment of the month.

    Attributes:
        expected: where the linear pace says the value should be now.
        shortfall_pct: how far the value is on the wrong side of ``expected``, in percent of it
            (negative: ahead of pace).
        behind: ``shortfall_pct`` is more than the threshold.
        remaining_days: business days left in the month, today included.
        per_day: totals only: needed (higher is better) or still allowed (lower is better) per
            remaining business day to end on target; ``None`` for a level or when no day is left.
        over_target: a lower-is-better total already past its monthly target (nothing is allowed).
    """

    kpi: KpiSettings
    value: float
    target: float
    expected: float
    shortfall_pct: float
    behind: bool
    remaining_days: int
    per_day: float | None
    over_target: bool = False

    @property
    def total(self) -> bool:
        """The value accumulates over the month (so it has a per-day figure)."""
        return grows_with_time(self.kpi)


def pace_of(
    kpi: KpiSettings,
    month: KpiMonth,
    *,
    elapsed: float,
    remaining_days: int,
    threshold_percent: float,
) -> Pace | None:
    """``kpi``'s pace in ``month`` with ``elapsed`` ∈ [0, 1] of it gone; ``None`` when it cannot be
    judged (no value yet, no positive target, or nothing expected yet)."""
    value, target = month.value, month.target
    if value is None or target is None or target <= 0:
        return None
    expected = assess(kpi, month, None, elapsed=elapsed).expected
    if expected is None or expected <= 0:
        return None
    higher = better(kpi) is Better.HIGHER
    shortfall = (expected - value) if higher else (value - expected)
    shortfall_pct = shortfall / expected * 100
    per_day: float | None = None
    over = False
    if grows_with_time(kpi) and remaining_days > 0:
        left = target - value
        over = not higher and left < 0
        per_day = max(0.0, left) / remaining_days
    return Pace(
        kpi=kpi,
        value=value,
        target=target,
        expected=expected,
        shortfall_pct=shortfall_pct,
        behind=shortfall_pct > threshold_percent,
        remaining_days=remaining_days,
        per_day=per_day,
        over_target=over,
    )
