"""The pace rule: behind a linear pace by more than a threshold, both directions, totals and levels,
and what it takes per remaining business day."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.kpi.pace import pace_of
from bot.kpi.status import KpiMonth
from tests.conftest import make_settings

SETTINGS = make_settings()
ENTRIES = SETTINGS.kpi_def("recruiting_entries")  # a total, higher is better, target 30
RATE = SETTINGS.kpi_def("engagement_rate")  # a level, target 3.0 %
assert ENTRIES is not None and RATE is not None
COST = replace(ENTRIES, key="cost", better="lower", target=100.0)  # a total where lower is better


def month(value: float | None, target: float | None = 30.0) -> KpiMonth:
    return KpiMonth("k", "2026-11", value, target)


def test_a_total_behind_its_linear_pace() -> None:
    # Half the month gone: pace says 15; 12 is 20 % short.
    pace = pace_of(ENTRIES, month(12), elapsed=0.5, remaining_days=11, threshold_percent=10)
    assert pace is not None
    assert pace.expected == pytest.approx(15)
    assert pace.shortfall_pct == pytest.approx(20)
    assert pace.behind
    assert pace.per_day == pytest.approx(18 / 11)
    assert pace.total


def test_within_the_threshold_or_ahead_is_not_behind() -> None:
    assert not pace_of(ENTRIES, month(14), elapsed=0.5, remaining_days=11, threshold_percent=10).behind  # type: ignore[union-attr]
    ahead = pace_of(ENTRIES, month(20), elapsed=0.5, remaining_days=11, threshold_percent=10)
    assert ahead is not None and not ahead.behind and ahead.shortfall_pct < 0


def test_lower_is_better_means_staying_under_the_pace() -> None:
    over = pace_of(COST, month(70, 100.0), elapsed=0.5, remaining_days=10, threshold_percent=10)
    assert over is not None and over.behind and over.shortfall_pct == pytest.approx(40)
    # What remains is an allowance: 30 over 10 business days.
    assert over.per_day == pytest.approx(3)
    under = pace_of(COST, month(40, 100.0), elapsed=0.5, remaining_days=10, threshold_percent=10)
    assert under is not None and not under.behind
    past = pace_of(COST, month(120, 100.0), elapsed=0.5, remaining_days=10, threshold_percent=10)
    assert past is not None and past.over_target and past.per_day == 0


def test_a_level_is_judged_against_its_target_without_a_per_day_figure() -> None:
    pace = pace_of(RATE, month(2.5, 3.0), elapsed=0.5, remaining_days=11, threshold_percent=10)
    assert pace is not None and pace.behind and pace.expected == 3.0 and pace.per_day is None
    assert not pace.total


def test_nothing_to_judge() -> None:
    assert pace_of(ENTRIES, month(None), elapsed=0.5, remaining_days=11, threshold_percent=10) is None
    assert pace_of(ENTRIES, month(5, None), elapsed=0.5, remaining_days=11, threshold_percent=10) is None
    assert pace_of(ENTRIES, month(5, 0.0), elapsed=0.5, remaining_days=11, threshold_percent=10) is None
    assert pace_of(ENTRIES, month(0), elapsed=0.0, remaining_days=22, threshold_percent=10) is None
