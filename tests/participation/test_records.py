"""Participation arithmetic: per-manager parts, working-hour medians, the rate (pure)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.participation.records import DecisionFact, median_working_hours, rate, summarize
from bot.workdays import WorkCalendar

TOKYO = ZoneInfo("Asia/Tokyo")
CAL = WorkCalendar(tz=TOKYO, country="JP")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


def test_time_to_decide_counts_working_hours_only() -> None:
    # Friday 17:00 → Monday 10:00: one hour on Friday, one on Monday.
    friday = DecisionFact("U1", at(2026, 11, 20, 17), at(2026, 11, 24, 10))  # Mon 23rd is a holiday
    same_day = DecisionFact("U1", at(2026, 11, 25, 9), at(2026, 11, 25, 13))
    assert median_working_hours([friday], CAL) == 2.0
    assert median_working_hours([friday, same_day], CAL) == 3.0
    assert median_working_hours([], CAL) is None


def test_summary_lists_every_manager_and_the_rate() -> None:
    summary = summarize(
        managers=["U1", "U2", "U3", "U1"],
        decisions=[
            DecisionFact("U1", at(2026, 11, 25, 9), at(2026, 11, 25, 12)),
            DecisionFact("U9", at(2026, 11, 25, 9), at(2026, 11, 25, 10)),  # not a manager
        ],
        comments=["U2", "U2"],
        reactions={"U3": 0, "U9": 4},
        replies={},
        calendar=CAL,
        requesters=["A", "B", "A"],
        wins=2,
    )
    assert [m.user_id for m in summary.managers] == ["U1", "U2", "U3"]
    assert [m.took_part for m in summary.managers] == [True, True, False]
    assert summary.managers[0].median_decide_hours == 3.0
    assert summary.managers[1].comments == 2
    assert summary.rate is not None and round(summary.rate, 1) == 66.7
    assert (summary.silent, summary.requests, summary.requesters, summary.wins) == (1, 3, 2, 2)
    assert summary.median_decide_hours == 3.0  # managers' decisions only
    assert rate(0, 0) is None
