"""Milestone rules over plain facts: records (both directions), streaks, round numbers, the quarter's
best post, and which month and quarter are judged on a given day."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from bot.kpi.status import KpiMonth
from bot.milestones.detection import (
    PostCandidate,
    best_post,
    judged_month,
    judged_quarter,
    kpi_record,
    legacy_twin,
    round_number,
    target_streak,
)
from bot.milestones.ids import TEAM, MilestoneKind
from bot.periods import quarter_of
from tests.conftest import make_settings

SETTINGS = make_settings()
ENTRIES = SETTINGS.kpi_def("recruiting_entries")
assert ENTRIES is not None
#: The same KPI where lower is better (e.g. cost per hire).
LOWER = replace(ENTRIES, key="cost_per_hire", better="lower", target=50.0)


def months(*values: float | None, target: float | None = 30.0, start: int = 1) -> list[KpiMonth]:
    return [KpiMonth("k", f"2026-{start + i:02d}", value, target) for i, value in enumerate(values)]


def test_a_best_month_ever_is_a_record_after_enough_history() -> None:
    found = kpi_record(ENTRIES, months(20, 25, 22, 31), min_history=3)
    assert found is not None
    assert (found.kind, found.subject, found.mark) == (
        MilestoneKind.KPI_RECORD,
        "recruiting_entries",
        "2026-04",
    )
    assert (found.value, found.previous) == (31, 25)
    # Too little history: the first months of data are no "record".
    assert kpi_record(ENTRIES, months(20, 31), min_history=3) is None
    # A tie is not a record; neither is a month without a value; gaps do not count as history.
    assert kpi_record(ENTRIES, months(20, 25, 22, 25), min_history=3) is None
    assert kpi_record(ENTRIES, months(20, 25, 22, None), min_history=3) is None
    assert kpi_record(ENTRIES, months(20, None, 22, 40), min_history=3) is None


def test_a_lower_is_better_record_is_the_lowest_month() -> None:
    found = kpi_record(LOWER, months(60, 55, 58, 41), min_history=3)
    assert found is not None and (found.value, found.previous) == (41, 55)
    assert kpi_record(LOWER, months(60, 55, 58, 70), min_history=3) is None


def test_streaks_are_celebrated_at_every_multiple_of_n() -> None:
    three = target_streak(ENTRIES, months(10, 30, 35, 31), every=3)
    assert three is not None
    assert (three.mark, three.value) == ("2026-04:3", 3)
    assert three.detail == {"since": "2026-02", "until": "2026-04"}
    assert target_streak(ENTRIES, months(30, 35, 31, 33), every=3) is None  # 4 in a row
    six = target_streak(ENTRIES, months(30, 35, 31, 33, 30, 30), every=3)
    assert six is not None and six.mark == "2026-06:6"
    assert target_streak(ENTRIES, months(30, 35, 29), every=3) is None  # broken by the last month
    assert target_streak(ENTRIES, months(30, 35, 31, target=None), every=3) is None  # no target


def test_a_lower_is_better_streak_stays_under_the_target() -> None:
    found = target_streak(LOWER, months(49, 50, 45, target=50.0), every=3)
    assert found is not None and found.mark == "2026-03:3"
    assert target_streak(LOWER, months(49, 51, 45, target=50.0), every=3) is None


def test_round_numbers_crossed_within_the_window() -> None:
    steps = (100, 500, 1000, 5000)
    found = round_number(MilestoneKind.POSTS_TOTAL, TEAM, before=480, now=1020, steps=steps)
    assert found is not None and (found.mark, found.value, found.previous) == ("1000", 1020, 480)
    assert round_number(MilestoneKind.POSTS_TOTAL, TEAM, before=1001, now=1200, steps=steps) is None
    assert round_number(MilestoneKind.FOLLOWERS, "x_corp", before=999, now=1000, steps=steps) is not None
    # No count from before the window: the crossing may be years old.
    assert round_number(MilestoneKind.FOLLOWERS, "x_corp", before=None, now=5200, steps=steps) is None


def test_the_quarters_best_post() -> None:
    quarter = quarter_of(date(2026, 11, 18), 4)  # fiscal 2026 Q3 in an April year
    assert (quarter.label, quarter.start, quarter.end) == ("2026-Q3", date(2026, 10, 1), date(2027, 1, 1))
    post = PostCandidate(
        "x_corp", "https://x.com/a/status/1", "採用イベント", datetime(2026, 11, 2, tzinfo=UTC), 2000, 130
    )
    found = best_post(quarter, post)
    assert found is not None
    assert (found.kind, found.subject, found.mark) == (MilestoneKind.BEST_POST, TEAM, "q2026-10")
    assert found.value == 6.5
    assert found.detail["url"] == "https://x.com/a/status/1"
    assert found.detail["fiscal_start"] == 4
    assert best_post(quarter, None) is None
    # The first release's calendar mark of the same dates is its twin; a May quarter has none.
    twin = legacy_twin(found)
    assert twin is not None and twin.mark == "2026-Q4" and twin.kind is MilestoneKind.BEST_POST
    may = best_post(quarter_of(date(2026, 6, 1), 5), post)
    assert may is not None and may.mark == "q2026-05" and legacy_twin(may) is None


def test_which_month_and_quarter_are_judged() -> None:
    # November is judged from December 3rd with two settle days (late imports land first).
    assert judged_month(date(2026, 12, 2), settle_days=2).label == "2026-10"
    assert judged_month(date(2026, 12, 3), settle_days=2).label == "2026-11"
    assert judged_month(date(2026, 12, 1), settle_days=0).label == "2026-11"
    # A quarter is judged only in the month after it settled.
    assert judged_quarter(date(2027, 1, 2), settle_days=2) is None
    q = judged_quarter(date(2027, 1, 3), settle_days=2)
    assert q is not None and q.label == "2026-Q4"
    assert judged_quarter(date(2027, 2, 3), settle_days=2) is None
    q2 = judged_quarter(date(2026, 7, 31), settle_days=0)
    assert q2 is not None and q2.label == "2026-Q2"
    # Fiscal quarters: in an April year, October to December is Q3, judged in January.
    q3 = judged_quarter(date(2027, 1, 3), settle_days=2, fiscal_start=4)
    assert q3 is not None and (q3.label, q3.start) == ("2026-Q3", date(2026, 10, 1))
    # A year from May: November to January is judged in February, not in January.
    assert judged_quarter(date(2027, 1, 10), settle_days=2, fiscal_start=5) is None
    q4 = judged_quarter(date(2027, 2, 3), settle_days=2, fiscal_start=5)
    assert q4 is not None and (q4.start, q4.end) == (date(2026, 11, 1), date(2027, 2, 1))
