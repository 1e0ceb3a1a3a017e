"""Participation's scheduled work: the kind nudge to silent managers, and keeping this month's rate as
the ``manager_participation`` KPI's value (scheduled I/O: store + Slack).

Each nudge is claimed in the store (one row per manager and slot) and its DM owed in the outbox in the
same transaction, so restarts and replicas never send two, and a process that dies between the claim
and the DM (or a Slack that fails past its retries) leaves the DM to the outbox sweep
(:mod:`bot.participation.delivery`), which sends it once, in working hours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import db
from bot.away.queries import away_users
from bot.participation import commands, queries
from bot.participation.delivery import NudgeDelivery, owe
from bot.participation.policy import NudgeState, may_nudge_now, nudge_slot
from bot.participation.roster import managers, nudge_calendar, rate_kpis, refresh_rate
from bot.periods import PeriodKind, last_finished
from bot.slack import outbox

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

NUDGE_JOB_ID = "participation.nudges"
RATE_JOB_ID = "participation.rate"
#: How often this month's participation rate is written as the KPI's value.
RATE_REFRESH_MINUTES = 30


@dataclass(slots=True)
class NudgeReport:
    """What one nudge run did (user ids), for logs and tests: ``sent`` at once, ``failed`` owed to
    the outbox sweep (Slack failed); ``skipped`` says why nothing ran."""

    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: str | None = None


async def _states(deps: Deps, roster: list[str], *, now: datetime) -> list[NudgeState]:
    today = now.astimezone(deps.settings.tz).date()
    async with db.unit_of_work(deps.sessions) as session:
        since = await queries.tracking_since(session)
        last = await queries.last_participation(session, users=roster)
        prefs = await queries.prefs_of(session, users=roster)
        nudged = await queries.last_nudges(session, users=roster)
        away = await away_users(session, on=today)
    if since is None:
        return []
    return [
        NudgeState(
            user_id=user,
            last_part=max(last[user], since) if user in last else since,
            last_nudge=nudged.get(user),
            nudges_off=bool(prefs[user].nudges_off) if user in prefs else False,
            remind_on=prefs[user].remind_on if user in prefs else None,
            away=user in away,
        )
        for user in roster
    ]


async def run_nudges(deps: Deps, *, now: datetime | None = None) -> NudgeReport:
    """Nudge every silent manager who is due, if ``now`` is in working hours on a business day."""
    now = now or deps.clock.now()
    settings = deps.settings
    config = settings.participation
    if not config.nudges:
        return NudgeReport(skipped="off")
    if not may_nudge_now(now, nudge_calendar(settings)):
        return NudgeReport(skipped="outside_working_hours")
    today = now.astimezone(settings.tz).date()
    weeks = config.nudge_after_weeks
    roster = await managers(deps)
    due = [
        (state.user_id, slot)
        for state in await _states(deps, roster, now=now)
        if (slot := nudge_slot(state, now=now, today=today, weeks=weeks)) is not None
    ]
    report = NudgeReport()
    if not due:
        return report
    week = last_finished(PeriodKind.WEEKLY, now, settings.tz).label
    delivery = NudgeDelivery(deps)
    delivery.register()  # also when called outside the scheduler (tests, a one-off run)
    for user_id, slot in due:

        async def claim(user_id: str = user_id, slot: str = slot) -> outbox.Owed | None:
            async with db.unit_of_work(deps.sessions, write=True) as session:
                if not await commands.claim_nudge(session, user_id=user_id, slot=slot, now=now):
                    return None
                return await owe(session, user_id=user_id, slot=slot, week=week, now=now)

        owed = await db.with_retry(claim)
        if owed is None:
            log.info("participation: nudge %s for %s was already claimed", slot, user_id)
            continue
        if await deps.outbox.deliver(owed):
            report.sent.append(user_id)
        else:  # one refused DM must not stop the others; the sweep sends it later
            report.failed.append(user_id)
    return report


async def run_rate_refresh(deps: Deps) -> float | None:
    """Write this month's participation rate as the ``manager_participation`` KPI's value."""
    return await refresh_rate(deps)


def register_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    """The nudge run on ``[participation] nudge_cron`` (when nudges are on), and the rate refresh
    (when a ``manager_participation`` KPI is configured)."""
    settings = deps.settings
    NudgeDelivery(deps).register()  # also with nudges off: owed ones still go out
    if settings.participation.nudges:
        scheduler.add_job(
            deps.inflight.track(run_nudges),
            CronTrigger.from_crontab(settings.participation.nudge_cron, timezone=settings.tz),
            args=[deps],
            id=NUDGE_JOB_ID,
            name="participation nudges",
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=600,
            max_instances=1,
        )
    if rate_kpis(settings):
        scheduler.add_job(
            deps.inflight.track(run_rate_refresh),
            IntervalTrigger(minutes=RATE_REFRESH_MINUTES, timezone=settings.tz),
            args=[deps],
            id=RATE_JOB_ID,
            name="participation rate refresh",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
