"""The quarterly digest's schedule: the Nth business day of the month after each fiscal quarter, in
the configured time zone, past New Year and Golden Week; the period each fire time posts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.digest.schedule import QuarterStartTrigger, last_due, previous_fire_time, trigger_for
from bot.periods import PeriodKind
from tests.conftest import make_settings
from tests.digest.test_schedule import TOKYO, fire_times, jst


def quarterly(**table: Any) -> Any:
    def change(raw: dict[str, Any]) -> None:
        raw["digest"]["quarterly"] = {"enabled": True, "channels": ["C0EXEC0001"], **table}

    return make_settings(change=change)


def test_first_business_day_after_each_quarter_of_an_april_year() -> None:
    settings = quarterly()
    trigger = trigger_for(settings, PeriodKind.QUARTERLY)
    assert isinstance(trigger, QuarterStartTrigger)
    assert fire_times(trigger, jst(2026, 10, 1, 9, 30), 5) == [
        "2027-01-04 09:00 Mon",  # Jan 1 holiday (Fri), Jan 2-3 weekend
        "2027-04-01 09:00 Thu",
        "2027-07-01 09:00 Thu",
        "2027-10-01 09:00 Fri",
        "2028-01-03 09:00 Mon",  # Jan 1 is the public holiday (Jan 2 a Sunday); no company break set
    ]
    fired = previous_fire_time(trigger, jst(2027, 1, 4, 10), TOKYO)
    assert fired is not None and fired.astimezone(TOKYO) == jst(2027, 1, 4, 9)
    assert last_due(settings, PeriodKind.QUARTERLY, fired).label == "2026-Q3"  # October to December


def test_the_third_business_day_at_a_chosen_time() -> None:
    trigger = trigger_for(quarterly(business_day=3, at="10:30"), PeriodKind.QUARTERLY)
    assert fire_times(trigger, jst(2027, 3, 1), 2) == [
        "2027-04-05 10:30 Mon",  # Thu 1, Fri 2, (weekend), Mon 5
        "2027-07-05 10:30 Mon",
    ]


def test_the_quarters_follow_the_fiscal_year_start() -> None:
    settings = replace(quarterly(), fiscal_year_start=2)
    trigger = trigger_for(settings, PeriodKind.QUARTERLY)
    # A February year: quarters start in February, May, August and November.
    assert fire_times(trigger, jst(2026, 12, 1), 2) == ["2027-02-01 09:00 Mon", "2027-05-06 09:00 Thu"]
