"""Who the managers are (user groups expanded through the directory, after an ack only), the calendar
participation counts working hours in, and the month's rate kept as the ``manager_participation``
KPI's value (I/O: Slack directory, the store)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from bot import db
from bot.calendars import working_hours_calendar
from bot.config import KpiSettings, Settings
from bot.participation import commands, queries
from bot.participation.records import ParticipationSummary
from bot.periods import Period, month_of
from bot.slack.directory import Expansion
from bot.workdays import WorkCalendar

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

#: Seconds a job or a digest waits for Slack to name a user group's members.
EXPAND_WAIT = 5.0


async def managers(deps: Deps) -> list[str]:
    """The configured managers, user groups expanded (a group Slack does not answer for is left out)."""
    return list((await roster_of(deps)).users)


async def roster_of(deps: Deps) -> Expansion:
    """The configured managers, user groups expanded, and the groups Slack did not name in time."""
    ids = deps.settings.roles.managers
    await deps.directory.expand(deps.slack, ids, wait=EXPAND_WAIT)
    return deps.directory.expand_known(ids)


def working_hours(settings: Settings) -> WorkCalendar:
    """The reminders' calendar: time to decide counts the hours it counts."""
    return working_hours_calendar(settings.review.working_hours, settings.tz)


def nudge_calendar(settings: Settings) -> WorkCalendar:
    """The reminders' working hours, with Japanese public holidays always off: a nudge never arrives
    on one, whatever ``[review.working_hours] japanese_holidays`` says."""
    return replace(working_hours(settings), country="JP")


def rate_kpis(settings: Settings) -> tuple[KpiSettings, ...]:
    return tuple(k for k in settings.kpis if k.aggregate == "derived" and k.derive == "manager_participation")


async def refresh_rate(
    deps: Deps,
    *,
    period: Period | None = None,
    now: datetime | None = None,
    roster: Sequence[str] | None = None,
    complete: bool = True,
) -> float | None:
    """Compute ``period``'s participation rate (default: this month) and keep it as the value of every
    ``manager_participation`` KPI, so ``/sns-kpi``, the Home and the digests read it like any other.

    A roster missing a user group Slack did not name in time (``complete`` false, or found so when
    ``roster`` is not given) writes nothing: its rate would count a share of the wrong managers; the
    value written last stays until a run that knows them all."""
    settings = deps.settings
    now = now or deps.clock.now()
    kpis = rate_kpis(settings)
    if not kpis:
        return None
    period = period or month_of(now.astimezone(settings.tz).date())
    if roster is None:
        found = await roster_of(deps)
        roster, complete = found.users, not found.unresolved
    if not complete:
        log.warning(
            "participation rate of %s not written: a manager user group is not known yet", period.label
        )
        return None
    async with db.unit_of_work(deps.sessions, write=True) as session:
        summary: ParticipationSummary = await queries.period_summary(
            session, period=period, tz=settings.tz, managers=roster, calendar=working_hours(settings)
        )
        await commands.store_rate(session, kpis=kpis, month=period.label, value=summary.rate, now=now)
    return summary.rate
