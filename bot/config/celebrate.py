"""``[milestones]`` and ``[pace]`` (pure): what the bot celebrates by itself, and when it warns that a
KPI falls behind its pace mid-month."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

from bot.config.reader import Reader
from bot.config.values import is_channel_id

#: Round numbers of posts and followers worth a cheer (1 and 5 times a power of ten).
DEFAULT_ROUND_NUMBERS: tuple[int, ...] = (100, 500, 1000, 5000, 10_000, 50_000, 100_000, 500_000, 1_000_000)


@dataclass(frozen=True, slots=True)
class MilestoneSettings:
    """``[milestones]``: records, streaks, the quarter's best post and round numbers."""

    #: Detect milestones at all (the weekly digest's "🎉 Milestones" section reads them).
    enabled: bool = True
    #: Also post each milestone to ``announce_channel`` the moment it is detected.
    announce: bool = True
    announce_channel: str | None = None
    #: "Target met N months in a row" is celebrated at N, 2N, 3N … months.
    streak_months: int = 3
    #: Months with a value a KPI needs before its best month counts as a record.
    min_history_months: int = 3
    #: Days after a month (or quarter) ends before it is judged: late imports land first.
    settle_days: int = 2
    round_numbers: tuple[int, ...] = DEFAULT_ROUND_NUMBERS
    #: A round number counts when it was crossed within this many days (older ones are history).
    round_window_days: int = 7
    #: How often detection runs (only within working hours on business days).
    check_minutes: int = 60

    @property
    def announces(self) -> bool:
        return self.enabled and self.announce and self.announce_channel is not None


@dataclass(frozen=True, slots=True)
class PaceSettings:
    """``[pace]``: one mid-month alert per KPI behind its linear pace."""

    #: Where the alerts go; ``None``: pace alerts are off.
    channel: str | None = None
    #: The alert goes out on the first business day on or after this day of the month.
    day: int = 15
    at: time = time(10, 0)
    #: A KPI is "behind" when it is more than this many percent short of its pace.
    threshold_percent: float = 10.0
    #: When every KPI is on pace: post one short line (true) or nothing (false).
    all_on_pace_line: bool = False
    #: When the bot was down through the alert day's working hours, the alert still goes out (once,
    #: with the figures as of then, saying it is late) on one of this many business days after it.
    catch_up_days: int = 3


_MILESTONE_KEYS = (
    "enabled",
    "announce",
    "announce_channel",
    "streak_months",
    "min_history_months",
    "settle_days",
    "round_numbers",
    "round_window_days",
    "check_minutes",
)
_PACE_KEYS = ("channel", "day", "at", "threshold_percent", "all_on_pace_line", "catch_up_days")


def _int_in(
    r: Reader, raw: Mapping[str, Any], name: str, path: str, low: int, high: int, default: int
) -> int:
    value = r.get(raw, name, path, int, default)
    if not low <= value <= high:
        r.add(f"{path}.{name}", "bad_choice", value=str(value), choices=f"{low} … {high}")
        return default
    return int(value)


def _channel(r: Reader, raw: Mapping[str, Any], name: str, path: str) -> str | None:
    value: str | None = r.get(raw, name, path, str, None)
    if value is not None and not is_channel_id(value):
        r.add(f"{path}.{name}", "bad_id", value=value, what="channel")
        return None
    return value


def read_milestones(r: Reader, raw: Mapping[str, Any]) -> MilestoneSettings:
    path = "milestones"
    m = r.table(raw, path, "")
    r.known(m, path, _MILESTONE_KEYS)
    announce = r.get(m, "announce", path, bool, True)
    channel = _channel(r, m, "announce_channel", path)
    if "announce" in m and announce and "announce_channel" not in m:
        r.add(f"{path}.announce_channel", "missing")
    steps = r.get(m, "round_numbers", path, list, list(DEFAULT_ROUND_NUMBERS))
    numbers: list[int] = []
    for i, step in enumerate(steps):
        if isinstance(step, bool) or not isinstance(step, int) or step <= 0:
            r.add(f"{path}.round_numbers[{i}]", "not_positive")
        else:
            numbers.append(step)
    return MilestoneSettings(
        enabled=r.get(m, "enabled", path, bool, True),
        announce=announce,
        announce_channel=channel,
        streak_months=_int_in(r, m, "streak_months", path, 2, 24, 3),
        min_history_months=_int_in(r, m, "min_history_months", path, 1, 60, 3),
        settle_days=_int_in(r, m, "settle_days", path, 0, 20, 2),
        round_numbers=tuple(sorted(set(numbers))),
        round_window_days=_int_in(r, m, "round_window_days", path, 1, 90, 7),
        check_minutes=_int_in(r, m, "check_minutes", path, 5, 1440, 60),
    )


def read_pace(r: Reader, raw: Mapping[str, Any]) -> PaceSettings:
    path = "pace"
    p = r.table(raw, path, "")
    r.known(p, path, _PACE_KEYS)
    threshold = r.get(p, "threshold_percent", path, (int, float), 10.0)
    if not 0 <= threshold < 100:
        r.add(f"{path}.threshold_percent", "bad_choice", value=str(threshold), choices="0 … 99")
        threshold = 10.0
    return PaceSettings(
        channel=_channel(r, p, "channel", path),
        # Up to the 28th: every month has that day (later days would skip February).
        day=_int_in(r, p, "day", path, 1, 28, 15),
        at=r.hhmm(p, "at", path, time(10, 0)),
        threshold_percent=float(threshold),
        all_on_pace_line=r.get(p, "all_on_pace_line", path, bool, False),
        catch_up_days=_int_in(r, p, "catch_up_days", path, 0, 10, 3),
    )
