"""KPIs rolled up from months to fiscal quarters, halves and years, against the months' targets (pure).

How a span's value is formed follows how the KPI's month is formed:

- totals (``aggregate = "sum"``, and the derived counts: impressions, engagements, posts published,
  follower growth) add up, and so do their monthly targets;
- averages (``aggregate = "mean"``, and the managers' participation, a share in percent) are the mean of the months that have a value, against the mean
  of the months' targets;
- levels (``aggregate = "last"``, e.g. followers) are the latest month's value, against the target
  of the span's last month;
- the engagement rate is Σ engagements ÷ Σ impressions over the span's posts (as for a month, so a
  busy month weighs more than a quiet one), against the mean of the months' targets.

Achievement and "on target" are :func:`bot.kpi.status.achievement` and
:func:`bot.kpi.status.meets_target`, the one meaning every surface shares (a lower-is-better KPI
meets its target at or below it, and its achievement is target ÷ value).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.config import KpiSettings
from bot.kpi.kinds import Aggregate, Derivation, aggregate, better, derivation
from bot.kpi.status import NO_POSTS, PostStats, achievement, meets_target


class RollupKind(StrEnum):
    """How months roll up into a longer span."""

    SUM = "sum"
    MEAN = "mean"
    LAST = "last"
    RATIO = "ratio"


class MonthFigure(Protocol):
    """A KPI's month: ``YYYY-MM``, its value and its target (``KpiMonth``, the digest's ``KpiPoint``)."""

    @property
    def month(self) -> str: ...
    @property
    def value(self) -> float | None: ...
    @property
    def target(self) -> float | None: ...


def rollup_kind(kpi: KpiSettings) -> RollupKind:
    """How ``kpi``'s months add up (see the module docstring)."""
    derive = derivation(kpi)
    if derive is Derivation.ENGAGEMENT_RATE:
        return RollupKind.RATIO
    if derive is Derivation.MANAGER_PARTICIPATION:
        # A share of the managers in percent: three months at 100 % are 100 %, not 300 %.
        return RollupKind.MEAN
    if derive is not None:
        return RollupKind.SUM
    how = aggregate(kpi)
    if how is Aggregate.MEAN:
        return RollupKind.MEAN
    if how is Aggregate.LAST:
        return RollupKind.LAST
    return RollupKind.SUM


@dataclass(frozen=True, slots=True)
class SpanFigure:
    """A KPI over a span of months.

    Attributes:
        value: the span's value so far (``None``: no month has one).
        target: the span's target (summed, averaged or the last month's, by :func:`rollup_kind`);
            ``None`` when a month of the span has none.
        months: the span's length in months; ``counted`` how many of them had a value.
        kind: how the months were rolled up.
    """

    kpi: KpiSettings
    value: float | None
    target: float | None
    months: int
    counted: int
    kind: RollupKind

    @property
    def achievement(self) -> float | None:
        """Percent of target, as :func:`bot.kpi.status.achievement` reads it on every surface."""
        return achievement(self.value, self.target, better(self.kpi))

    def expected(self, elapsed: float) -> float | None:
        """Where the value should be with ``elapsed`` ∈ [0, 1] of the span gone: a share of a total's
        target, the whole target of anything else."""
        if self.target is None:
            return None
        return self.target * elapsed if self.kind is RollupKind.SUM else self.target

    def on_track(self, elapsed: float = 1.0) -> bool | None:
        """Whether the value meets :meth:`expected` in the KPI's good direction (``None``: unknown)."""
        return meets_target(self.value, self.expected(elapsed), better(self.kpi))


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def roll_up(
    kpi: KpiSettings,
    months: Sequence[MonthFigure],
    *,
    stats: Mapping[str, PostStats] | None = None,
) -> SpanFigure:
    """``kpi`` over ``months`` (oldest first, each month of the span once).

    Args:
        stats: for the engagement rate, the posts' sums per month label; without them the rate is
            the mean of the months' rates (an approximation, used only where the sums are unknown).
    """
    kind = rollup_kind(kpi)
    known = [m for m in months if m.value is not None]
    values = [float(m.value) for m in known if m.value is not None]
    targets = [m.target for m in months]
    full_targets = [float(x) for x in targets if x is not None] if all(x is not None for x in targets) else []
    value: float | None = None
    target: float | None = None
    if kind is RollupKind.SUM:
        value = math.fsum(values) if values else None
        target = math.fsum(full_targets) if full_targets else None
    elif kind is RollupKind.LAST:
        value = values[-1] if values else None
        last_target = months[-1].target if months else None
        target = None if last_target is None else float(last_target)
    else:
        target = _mean(full_targets) if full_targets else None
        if kind is RollupKind.RATIO and stats is not None:
            total = NO_POSTS
            for m in months:
                total = total + stats.get(m.month, NO_POSTS)
            value = total.value(Derivation.ENGAGEMENT_RATE)
        else:
            value = _mean(values) if values else None
    return SpanFigure(kpi, value, target, len(months), len(values), kind)
