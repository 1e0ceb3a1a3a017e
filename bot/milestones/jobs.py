"""Milestone detection: the periodic job that reads the store, records each milestone found once (its
claim row) and owes its announcement when announcing is on (I/O: store, Slack through ``delivery``;
the rules are ``detection``'s).

The job runs every ``[milestones] check_minutes`` in every scheduling replica, but only within
working hours on business days (the calendar reviews use): a record found at night is announced at
the next opening. Replicas detecting the same milestone at once insert the same claim row; one wins,
and only the winner owes the announcement.

Round numbers and the quarter's best post are cheap (a count, a few indexed rows) and checked every
run. A KPI's best month and target streaks read every KPI's whole history (hundreds of ms on a big
store), and what they judge (the last settled month) changes once a month: they are checked by the
first run of each day, and again that day only when a KPI value was recorded or changed since (the
check's key names the day and the ``kpi_value`` table's newest row). Values derived from posts
(engagement rate, impressions …) are thus re-judged daily.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from bot.calendars import working_hours_calendar
from bot.config import Settings
from bot.db import unit_of_work
from bot.errors import BotError
from bot.keys import ProcessedKey, claim_key
from bot.kpi.models import KpiValue
from bot.milestones import detection
from bot.milestones.commands import record
from bot.milestones.delivery import Announcer, owe
from bot.milestones.ids import TEAM, JobId, MilestoneKind
from bot.milestones.queries import best_post_of, followers_at, kpi_history, posts_published, recorded
from bot.milestones.records import Achieved, Found
from bot.slack import outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

#: The first detection after start-up (not at once: start-up has its own work).
FIRST_RUN_AFTER = timedelta(minutes=2)


def register_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    """The detection job (when ``[milestones] enabled``) and the announcements' outbox delivery."""
    Announcer(deps).register()
    settings = deps.settings.milestones
    if not settings.enabled:
        return
    every = timedelta(minutes=settings.check_minutes)
    scheduler.add_job(
        deps.inflight.track(run_detection),
        # From the injected clock, not the wall clock (the interval trigger's default start); the first
        # run soon after start-up, so a bot restarted more often than every interval still looks.
        IntervalTrigger(
            minutes=settings.check_minutes,
            start_date=deps.clock.now() + FIRST_RUN_AFTER,
            timezone=deps.settings.tz,
        ),
        args=[deps],
        id=str(JobId.DETECT),
        name="milestone detection",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=int(every.total_seconds()),
        replace_existing=True,
    )


async def kpi_check_key(session: AsyncSession, *, settings: Settings, now: datetime) -> str:
    """The key of the KPI part of a check at ``now``: the local day and the newest KPI value (a value
    recorded or replaced since the day's last check makes a new key)."""
    newest = await session.scalar(select(func.max(KpiValue.id)))
    count = await session.scalar(select(func.count(KpiValue.id)))
    return f"milestones:kpi:{now.astimezone(settings.tz).date().isoformat()}:{newest or 0}:{count or 0}"


async def find_milestones(
    session: AsyncSession, *, settings: Settings, now: datetime, kpis: bool = True
) -> list[Found]:
    """Every milestone the store shows at ``now`` (recorded before or not: the claim sorts that out);
    without ``kpis``, the KPIs' records and streaks are not looked at (the expensive part)."""
    config = settings.milestones
    today = now.astimezone(settings.tz).date()
    found: list[Found | None] = []
    if kpis:
        month = detection.judged_month(today, settle_days=config.settle_days)
        history = await kpi_history(session, settings=settings, until=month)
        for kpi in settings.kpis:
            months = history.get(kpi.key, [])
            found.append(detection.kpi_record(kpi, months, min_history=config.min_history_months))
            found.append(detection.target_streak(kpi, months, every=config.streak_months))
    quarter = detection.judged_quarter(
        today, settle_days=config.settle_days, fiscal_start=settings.fiscal_year_start
    )
    if quarter is not None:
        best = await best_post_of(
            session, quarter=quarter, tz=settings.tz, min_impressions=settings.digest.weekly.min_impressions
        )
        found.append(detection.best_post(quarter, best))
    steps = config.round_numbers
    since = now - timedelta(days=config.round_window_days)
    found.append(
        detection.round_number(
            MilestoneKind.POSTS_TOTAL,
            TEAM,
            before=await posts_published(session, before=since),
            now=await posts_published(session, before=now),
            steps=steps,
        )
    )
    then, current = await followers_at(session, at=since), await followers_at(session, at=now)
    for account, count in sorted(current.items()):
        found.append(
            detection.round_number(
                MilestoneKind.FOLLOWERS, account, before=then.get(account), now=count, steps=steps
            )
        )
    return [f for f in found if f is not None]


def _claim(found: Found) -> tuple[str, str, str]:
    return found.kind.value, found.subject, found.mark


async def detect_and_record(deps: Deps) -> list[Achieved]:
    """Record every milestone not recorded yet and announce it (when configured); the new ones."""
    settings, now = deps.settings, deps.clock.now()
    async with unit_of_work(deps.sessions) as session:
        kpi_key = await kpi_check_key(session, settings=settings, now=now)
        kpis_due = await session.get(ProcessedKey, kpi_key) is None
        found = await find_milestones(session, settings=settings, now=now, kpis=kpis_due)
        twins = [detection.legacy_twin(f) for f in found]
        known = await recorded(session, found=found + [t for t in twins if t is not None])
    # Most runs find only what is recorded already: no write transaction for those. A quarter
    # recorded under the first release's calendar mark is the same milestone: not again.
    found = [
        f
        for f, twin in zip(found, twins, strict=True)
        if _claim(f) not in known and (twin is None or _claim(twin) not in known)
    ]
    if not found and not kpis_due:
        return []
    channel = settings.milestones.announce_channel if settings.milestones.announces else None
    new: list[Achieved] = []
    owed: list[outbox.Owed] = []
    async with unit_of_work(deps.sessions, write=True) as session:
        if kpis_due:  # with what it found: a run that dies first leaves the check to the next run
            await claim_key(session, key=kpi_key, now=now)
        for item in found:
            milestone_id = await record(session, found=item, now=now)
            if milestone_id is None:
                continue
            new.append(Achieved(milestone_id, item, now))
            if channel is not None:
                owed.append(await owe(session, milestone_id=milestone_id, channel=channel, now=now))
    if owed:
        Announcer(deps).register()  # also when called outside the scheduler (tests, a one-off run)
        for announcement in owed:
            await deps.outbox.deliver(announcement)  # a failure stays owed: the outbox sweep retries it
    for achieved in new:
        log.info("milestone: %s %s %s", achieved.found.kind, achieved.found.subject, achieved.found.mark)
    return new


async def run_detection(deps: Deps) -> list[Achieved]:
    """The scheduled job: detect within working hours on business days (else wait for the next run)."""
    if not deps.settings.milestones.enabled:
        return []
    now = deps.clock.now()
    calendar = working_hours_calendar(deps.settings.review.working_hours, deps.settings.tz)
    if calendar.next_opening(now) != now:
        return []
    try:
        return await detect_and_record(deps)
    except BotError as exc:  # the database is away: the next run looks again
        log.warning("milestone detection skipped: %s", exc.key)
        return []
