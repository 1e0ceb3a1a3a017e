"""How a KPI is doing: month values, typed input, pace and change vs last month (pure).

Shared by the store (``service``), the Slack answers (``ui``), the App Home and the digests, so
none of them needs the store to reason about a number.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.config import KpiSettings, Settings
from bot.errors import BotError
from bot.periods import Period, PeriodKind, month_of, parse_period

#: Values above this are typos, not KPI values (and keep floats exact for counts).
MAX_VALUE = 1e15


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


def split_period(period: str) -> tuple[str, date | None]:
    """``YYYY-MM`` → (month, None); ``YYYY-MM-DD`` → (month, day)."""
    if len(period) == 10:
        day = date.fromisoformat(period)
        return period[:7], day
    return parse_period(PeriodKind.MONTHLY, period).label, None


_NUMBER_RE = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")


def require_kpi(settings: Settings, key: str) -> KpiSettings:
    """The configured KPI ``key``.

    Raises:
        BotError: ``kpi.errors.unknown_kpi`` (params ``key``, ``choices``).
    """
    kpi = settings.kpi_def(key)
    if kpi is None:
        raise BotError("kpi.errors.unknown_kpi", key=key, choices=", ".join(k.key for k in settings.kpis))
    return kpi


def parse_value(kpi: KpiSettings, text: str) -> float:
    """A value as typed: ``1234``, ``1,234``, ``3.2``, ``3.2%``, ``¥12,000``, full-width digits.

    Negative values are refused: every built-in kind of KPI (counts, rates, money, volumes) is
    non-negative, and the one that may shrink (follower growth) is derived, never typed.

    Raises:
        BotError: ``kpi.errors.bad_value`` (not a finite number) or ``kpi.errors.negative_value``.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip()
    for decoration in ("¥", "$", "€", "円", "件", "人"):
        cleaned = cleaned.replace(decoration, "")
    if kpi.unit and kpi.unit not in ("%",):
        cleaned = cleaned.replace(kpi.unit, "")
    cleaned = cleaned.removesuffix("%").strip()
    if not cleaned or not _NUMBER_RE.match(cleaned) or not any(ch.isdigit() for ch in cleaned):
        raise BotError("kpi.errors.bad_value", value=text)
    value = float(cleaned.replace(",", ""))
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        raise BotError("kpi.errors.bad_value", value=text)
    if value < 0:
        raise BotError("kpi.errors.negative_value", value=text)
    return value + 0.0  # turns -0.0 into 0.0


def parse_month(text: str | None, *, now: datetime, tz: ZoneInfo) -> Period:
    """The month to record for: ``YYYY-MM``, default the current month in ``tz``; at most next month.

    Raises:
        BotError: ``kpi.errors.bad_month``, ``periods.errors.out_of_range`` (before 1970 or after
            9999) or ``kpi.errors.month_too_far``.
    """
    current = month_of(now.astimezone(tz).date())
    if text is None:
        return current
    try:
        month = parse_period(PeriodKind.MONTHLY, text)
    except BotError as exc:
        if exc.key == "periods.errors.out_of_range":
            raise
        raise BotError("kpi.errors.bad_month", value=text) from None
    if month > current.next():
        raise BotError("kpi.errors.month_too_far", value=text, latest=current.next().label)
    return month


# ---------------------------------------------------------------------------------------------
# Status: how a KPI is doing this month (pure)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KpiStatus:
    """One KPI's month at a glance.

    Attributes:
        achievement: value ÷ target × 100 (``None`` without value or a positive target).
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


def _grows_with_time(kpi: KpiSettings) -> bool:
    """True when the month's value accumulates over the month (so pace scales the target)."""
    if kpi.aggregate == "sum":
        return True
    return kpi.aggregate == "derived" and kpi.derive in (
        "impressions",
        "engagements",
        "posts_published",
        "follower_growth",
    )


def assess(kpi: KpiSettings, current: KpiMonth, previous: KpiMonth | None, *, elapsed: float) -> KpiStatus:
    """Compare a month with its target and the month before (``elapsed`` ∈ [0, 1] of the month)."""
    value, target = current.value, current.target
    prev = previous.value if previous is not None else None
    achievement = value / target * 100 if value is not None and target else None
    expected: float | None = None
    on_track: bool | None = None
    if target is not None:
        expected = target * elapsed if _grows_with_time(kpi) else target
        if value is not None:
            on_track = value >= expected if kpi.better == "higher" else value <= expected
    change = value - prev if value is not None and prev is not None else None
    change_pct = change / abs(prev) * 100 if change is not None and prev else None
    good_change = None
    if change is not None and change != 0:
        good_change = change > 0 if kpi.better == "higher" else change < 0
    return KpiStatus(
        kpi, value, target, prev, achievement, expected, on_track, change, change_pct, good_change
    )


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

    def value(self, derive: str) -> float | None:
        """The month value of a post-derived KPI (``posts_published``, ``impressions``, …)."""
        if derive == "posts_published":
            return float(self.posts)
        if derive == "impressions":
            return None if self.impressions is None else float(self.impressions)
        if derive == "engagements":
            return None if self.engagements is None else float(self.engagements)
        if derive == "engagement_rate":
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
