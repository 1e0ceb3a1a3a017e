"""KPI roll-ups from months to fiscal spans: totals add up (targets too), averages average, levels
take the last month, the engagement rate is Σ engagements ÷ Σ impressions, lower-is-better judged
downwards (pure)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.kpi.rollup import RollupKind, roll_up, rollup_kind
from bot.kpi.status import KpiMonth, PostStats, achievement, meets_target
from tests.conftest import make_settings

SETTINGS = make_settings()
ENTRIES = SETTINGS.kpi_def("recruiting_entries")
RATE = SETTINGS.kpi_def("engagement_rate")
SEARCH = SETTINGS.kpi_def("branded_search")
assert ENTRIES is not None and RATE is not None and SEARCH is not None


def months(key: str, *pairs: tuple[float | None, float | None]) -> list[KpiMonth]:
    return [KpiMonth(key, f"2026-{10 + i:02d}", value, target) for i, (value, target) in enumerate(pairs)]


def test_kinds_follow_how_the_month_is_formed() -> None:
    assert rollup_kind(ENTRIES) is RollupKind.SUM
    assert rollup_kind(RATE) is RollupKind.RATIO
    assert rollup_kind(SEARCH) is RollupKind.LAST
    assert rollup_kind(replace(ENTRIES, aggregate="mean")) is RollupKind.MEAN
    assert rollup_kind(replace(RATE, derive="impressions")) is RollupKind.SUM
    assert rollup_kind(replace(RATE, derive="follower_growth")) is RollupKind.SUM


def test_a_total_adds_values_and_targets_and_judges_pace() -> None:
    figure = roll_up(ENTRIES, months("recruiting_entries", (20, 30), (14, 30), (None, 40)))
    assert (figure.value, figure.target, figure.counted, figure.months) == (34, 100, 2, 3)
    assert figure.achievement == pytest.approx(34)
    assert figure.on_track(elapsed=0.3) is True  # 34 ≥ 30 expected by now
    assert figure.on_track(elapsed=0.5) is False
    # A month without a target leaves the span without one (a partial sum would flatter).
    assert roll_up(ENTRIES, months("recruiting_entries", (20, 30), (14, None))).target is None
    assert roll_up(ENTRIES, months("recruiting_entries", (None, 30), (None, 30))).value is None


def test_a_level_takes_the_latest_value_and_the_last_months_target() -> None:
    figure = roll_up(SEARCH, months("branded_search", (11000, 12000), (12600, 12500), (None, 13000)))
    assert (figure.value, figure.target) == (12600, 13000)


def test_the_rate_weighs_each_post_and_falls_back_to_the_mean_without_sums() -> None:
    points = months("engagement_rate", (3.0, 3.0), (5.0, 3.0), (None, 3.0))
    stats = {"2026-10": PostStats(1, 1000, 30, 30, 1000), "2026-11": PostStats(2, 4000, 200, 200, 4000)}
    figure = roll_up(RATE, points, stats=stats)
    assert figure.value == pytest.approx(4.6)
    assert figure.target == pytest.approx(3.0)
    assert roll_up(RATE, points).value == pytest.approx(4.0)


def test_lower_is_better_averages_are_judged_downwards() -> None:
    cost = replace(ENTRIES, key="cost", aggregate="mean", better="lower")
    figure = roll_up(cost, months("cost", (4000, 5000), (7000, 5000)))
    assert (figure.value, figure.target) == (5500, 5000)
    assert figure.achievement == pytest.approx(5000 / 5500 * 100)
    assert figure.on_track() is False
    assert roll_up(cost, months("cost", (4000, 5000), (5000, 5000))).on_track() is True


def test_managers_participation_is_a_share_so_a_span_averages_it() -> None:
    share = replace(
        ENTRIES, key="participation", aggregate="derived", derive="manager_participation", unit="%"
    )
    assert rollup_kind(share) is RollupKind.MEAN
    figure = roll_up(share, months("participation", (100, 80), (50, 80), (90, 80)))
    assert (figure.value, figure.target) == (pytest.approx(80), pytest.approx(80))
    assert figure.on_track() is True


@pytest.mark.parametrize(
    ("better", "pairs"),
    [
        ("higher", [(20, 30), (14, 30)]),
        ("lower", [(4000, 5000), (7000, 5000)]),
        ("lower", [(0, 5000), (0, 5000)]),  # no cost at all: no ratio, yet on target
        ("higher", [(5, 0), (5, 0)]),  # a zero target: no ratio
    ],
)
def test_a_span_reads_achievement_and_target_as_every_other_surface(
    better: str, pairs: list[tuple[float, float]]
) -> None:
    kpi = replace(ENTRIES, key="k", aggregate="mean", better=better)
    figure = roll_up(kpi, months("k", *pairs))
    assert figure.achievement == achievement(figure.value, figure.target, better)
    assert figure.on_track() == meets_target(figure.value, figure.target, better)
