"""``[participation]`` (pure): whether silent managers get a kind nudge, after how many silent weeks, and
when the nudge run looks for them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.config.reader import Reader
from bot.config.values import check_cron


@dataclass(frozen=True, slots=True)
class ParticipationSettings:
    #: Admins' switch for the whole nudge feature (managers also have their own on the App Home).
    nudges: bool = True
    #: A manager with no participation for this many weeks gets one nudge (at most one per this many weeks).
    nudge_after_weeks: int = 2
    #: When the nudge run looks for silent managers (5-field crontab in ``timezone``); it sends only in
    #: working hours on business days, never on a Japanese public holiday.
    nudge_cron: str = "0 10 * * mon-fri"


def read_participation(r: Reader, raw: Mapping[str, Any]) -> ParticipationSettings:
    p = r.table(raw, "participation", "")
    r.known(p, "participation", ("nudges", "nudge_after_weeks", "nudge_cron"))
    weeks = r.get(p, "nudge_after_weeks", "participation", int, 2)
    if not 1 <= weeks <= 12:
        r.add("participation.nudge_after_weeks", "bad_choice", value=str(weeks), choices="1 … 12")
        weeks = 2
    cron = r.get(p, "nudge_cron", "participation", str, "0 10 * * mon-fri")
    if (why := check_cron(cron)) is not None:
        r.add("participation.nudge_cron", "bad_cron", value=cron, reason=why)
    return ParticipationSettings(
        nudges=r.get(p, "nudges", "participation", bool, True),
        nudge_after_weeks=weeks,
        nudge_cron=cron,
    )
