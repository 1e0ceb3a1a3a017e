"""Pure KPI arithmetic: pace and change against target and last month, and the store's per-account
aggregates (account filters, follower growth)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.kpi.status import (
    BEFORE,
    NO_POSTS,
    KpiMonth,
    PostStats,
    achievement,
    assess,
    follower_growth,
    meets_target,
    post_stats_for,
)
from bot.periods import month_of, months_back
from tests.conftest import make_settings
from tests.kpi.store_support import with_every_kind

PER_ACCOUNT = {
    ("2026-10", "x_corp"): PostStats(2, 1000, 30, 30, 1000),
    ("2026-10", "ig_corp"): PostStats(1, None, 5, None, None),  # no impressions reported
    ("2026-11", "x_jobs"): PostStats(3, 600, None, None, None),
}


def test_post_stats_add_like_sql_sums() -> None:
    assert PostStats(1, None, 5, None, None) + PostStats(2, 10, None, None, None) == PostStats(
        3, 10, 5, None, None
    )
    assert NO_POSTS + NO_POSTS == NO_POSTS


def test_post_stats_for_every_account_and_a_filter() -> None:
    every = post_stats_for(PER_ACCOUNT, accounts=())
    assert every == {
        "2026-10": PostStats(3, 1000, 35, 30, 1000),
        "2026-11": PostStats(3, 600, None, None, None),
    }
    assert every["2026-10"].value("engagement_rate") == pytest.approx(
        3.0
    )  # the post without impressions is left out
    assert every["2026-10"].value("engagements") == 35.0
    assert every["2026-11"].value("engagement_rate") is None
    only_x = post_stats_for(PER_ACCOUNT, accounts=("x_corp",))
    assert only_x == {"2026-10": PostStats(2, 1000, 30, 30, 1000)}
    assert post_stats_for(PER_ACCOUNT, accounts=("li_corp",)) == {}


def test_follower_growth_chains_months_per_account() -> None:
    counts = {
        "x_corp": {BEFORE: 900, "2026-09": 1000, "2026-11": 1100},  # no count in October
        "ig_corp": {"2026-10": 500, "2026-11": 480},  # nothing before: its first month has no growth
    }
    months = ["2026-09", "2026-10", "2026-11"]
    assert follower_growth(counts, months=months, accounts=()) == {
        "2026-09": 100.0,
        "2026-10": None,
        "2026-11": 100.0 - 20.0,
    }
    assert follower_growth(counts, months=months, accounts=("ig_corp",)) == {
        "2026-09": None,
        "2026-10": None,
        "2026-11": -20.0,
    }


def test_assess_pace_for_sum_and_rate() -> None:
    settings = make_settings()
    entries, rate = settings.kpis[0], settings.kpis[1]
    half = assess(
        entries,
        KpiMonth("recruiting_entries", "2026-11", 14, 30),
        KpiMonth("recruiting_entries", "2026-10", 20, 30),
        elapsed=0.5,
    )
    assert (half.expected, half.on_track, half.change, half.good_change) == (15.0, False, -6.0, False)
    assert half.achievement == pytest.approx(46.666, abs=0.01)
    r = assess(rate, KpiMonth("engagement_rate", "2026-11", 3.3, 3.0), None, elapsed=0.1)
    assert (r.expected, r.on_track, r.change) == (3.0, True, None)


def test_months_back_matches_history_window() -> None:
    assert [m.label for m in months_back(month_of(date(2026, 11, 1)), 3)] == ["2026-09", "2026-10", "2026-11"]


@pytest.mark.parametrize(
    ("value", "target", "better", "expected", "met"),
    [
        # Higher is better: value ÷ target.
        (40.0, 30.0, "higher", 133.33, True),
        (30.0, 30.0, "higher", 100.0, True),
        (22.5, 30.0, "higher", 75.0, False),
        (-12.0, 100.0, "higher", -12.0, False),  # follower growth can fall
        # Lower is better: target ÷ value, so over 100 % is good in both directions.
        (7500.0, 10000.0, "lower", 133.33, True),
        (10000.0, 10000.0, "lower", 100.0, True),
        (12500.0, 10000.0, "lower", 80.0, False),
        (0.0, 10000.0, "lower", None, True),  # nothing spent: met, but no meaningful ratio
        # Nothing to compare.
        (None, 30.0, "higher", None, None),
        (40.0, None, "lower", None, None),
        (40.0, 0.0, "higher", None, True),  # a zero target is met, but has no ratio
    ],
)
def test_achievement_and_met_agree_in_both_directions(
    value: float | None, target: float | None, better: str, expected: float | None, met: bool | None
) -> None:
    achieved = achievement(value, target, better)
    assert achieved == (None if expected is None else pytest.approx(expected, abs=0.01))
    assert meets_target(value, target, better) is met
    if achieved is not None:
        assert (achieved >= 100) is met  # "met" and "≥ 100 %" never disagree


def test_assess_reads_lower_is_better_as_target_over_value() -> None:
    settings = make_settings(change=with_every_kind)
    cost = next(k for k in settings.kpis if k.key == "cost")  # lower is better, target 1,000
    month = month_of(date(2026, 11, 1))
    status = assess(cost, KpiMonth("cost", month.label, 750.0, 1000.0), None, elapsed=1.0)
    assert status.achievement == pytest.approx(133.33, abs=0.01)
    assert status.on_track is True
