"""Digest scheduling: triggers (cron, or "first business day" for the monthly digest), the jobs,
and the start-up catch-up (I/O: scheduler, store and Slack through ``service``).

Jobs are thin: take ``now`` from the clock, compute the last finished period, call
``service.send_digest``. Double posts are prevented by the ``digest_run`` claim, not by the
scheduler, so several replicas may run the same jobs safely.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.config import Settings
from bot.digest import service
from bot.digest.ids import JobId
from bot.digest.periods import Period, PeriodKind, last_finished
from bot.errors import BotError
from bot.workdays import WorkCalendar

if TYPE_CHECKING:
    from bot.app import Deps

log = logging.getLogger(__name__)

#: The longest gap searched back for a schedule's previous fire time (a yearly cron still works).
_LOOKBACK_MAX = timedelta(days=400)


class FirstBusinessDayTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 is untyped
    """Fires at local ``at`` on the first business day of every month (cron cannot say this)."""

    __slots__ = ("calendar", "at")

    def __init__(self, calendar: WorkCalendar, at: time) -> None:
        self.calendar = calendar
        self.at = at

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        # Like CronTrigger: after a previous run, the next one is the first after it (so a
        # misfired run is still seen); otherwise the first at or after now.
        start = min(now, previous_fire_time + timedelta(microseconds=1)) if previous_fire_time else now
        if previous_fire_time is not None and start <= previous_fire_time:
            start = previous_fire_time + timedelta(microseconds=1)
        run = self.calendar.next_first_business_day_run(start - timedelta(microseconds=1), self.at)
        return run.astimezone(self.calendar.tz)

    def __str__(self) -> str:
        return f"first business day at {self.at:%H:%M}"

    def __repr__(self) -> str:
        return f"<FirstBusinessDayTrigger (at={self.at:%H:%M}, tz={self.calendar.tz})>"


def business_calendar(settings: Settings) -> WorkCalendar:
    """Business days for the monthly digest: working weekdays, Japanese holidays, company days off."""
    hours = settings.review.working_hours
    return WorkCalendar(
        tz=settings.tz,
        weekdays=frozenset(hours.weekdays),
        country="JP" if hours.japanese_holidays else None,
        annual_days_off=frozenset((int(d[:2]), int(d[3:5])) for d in hours.extra_days_off),
    )


def trigger_for(settings: Settings, kind: PeriodKind) -> BaseTrigger:
    """The schedule of a digest kind in the configured zone."""
    tz = settings.tz
    if kind == "weekly":
        return CronTrigger.from_crontab(settings.digest.weekly.cron, timezone=tz)
    monthly = settings.digest.monthly
    if monthly.cron:
        return CronTrigger.from_crontab(monthly.cron, timezone=tz)
    return FirstBusinessDayTrigger(business_calendar(settings), monthly.at)


def previous_fire_time(trigger: BaseTrigger, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The schedule's last fire time at or before ``now`` (``None`` if none within 400 days).

    Triggers only answer "next after", so this widens a window backwards (1 minute, 2, 4, …)
    until it holds a fire time, then walks forward to the last one before ``now``.
    """
    window = timedelta(minutes=1)
    local_now = now.astimezone(tz)
    while window <= _LOOKBACK_MAX * 2:
        candidate = trigger.get_next_fire_time(None, local_now - window)
        if candidate is not None and candidate <= local_now:
            last = candidate
            while (
                following := trigger.get_next_fire_time(last, local_now)
            ) is not None and following <= local_now:
                if following <= last:  # a trigger that does not advance would loop forever
                    break
                last = following
            return last
        window *= 2
    return None


async def run_digest_job(deps: Deps, kind: PeriodKind) -> None:
    """The scheduled job: post the last finished period's digest (exactly once per channel)."""
    period = last_finished(kind, deps.clock.now(), deps.settings.tz)
    try:
        results = await service.send_digest(deps, kind=kind, period=period)
    except BotError as exc:  # the database is down: the claim was not taken; catch-up will retry
        log.error("digest %s %s not sent: %s", kind, period.label, exc.key)
        return
    for result in results:
        log.info("digest %s %s → %s: %s", kind, period.label, result.channel, result.outcome)


def register_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    """Add the weekly and monthly digest jobs (only for kinds that have channels)."""
    grace = max(60, int(deps.settings.digest.catch_up_days * 86400))
    for kind, job_id in (("weekly", JobId.WEEKLY), ("monthly", JobId.MONTHLY)):
        if not service.channels_for(deps.settings, kind):  # type: ignore[arg-type]
            continue
        scheduler.add_job(
            deps.inflight.track(run_digest_job),
            trigger_for(deps.settings, kind),  # type: ignore[arg-type]
            args=[deps, kind],
            id=str(job_id),
            name=f"{kind} digest",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=grace,
            replace_existing=True,
        )


async def catch_up(deps: Deps) -> dict[str, str]:
    """At start: post a digest whose time passed while the bot was down, within the grace window.

    For each kind, the schedule's last fire time before now decides the period. Within
    ``catch_up_days`` it is sent (the claim makes this a no-op when it was posted already);
    beyond, channels without a row are recorded as ``missed`` and logged.

    Returns:
        kind → ``sent`` | ``missed`` | ``none`` (no earlier fire time or no channels), for logs and tests.
    """
    if not deps.settings.scheduler.enabled:  # another replica schedules (and catches up)
        return {}
    now = deps.clock.now()
    tz = deps.settings.tz
    grace = timedelta(days=deps.settings.digest.catch_up_days)
    out: dict[str, str] = {}
    kinds: tuple[PeriodKind, ...] = ("weekly", "monthly")
    for kind in kinds:
        if not service.channels_for(deps.settings, kind):
            out[kind] = "none"
            continue
        fired = previous_fire_time(trigger_for(deps.settings, kind), now, tz)
        if fired is None:
            out[kind] = "none"
            continue
        period: Period = last_finished(kind, fired, tz)
        if now - fired <= grace:
            results = await service.send_digest(deps, kind=kind, period=period)
            for result in results:  # every outcome: after a restart, operators ask what catch-up did
                log.info(
                    "catch-up: digest %s %s → %s: %s", kind, period.label, result.channel, result.outcome
                )
            out[kind] = "sent"
        else:
            marked = await service.record_missed(deps, kind=kind, period=period)
            for channel in marked:
                log.warning(
                    "digest %s %s for %s was due %s, beyond the %s-day catch-up window: missed",
                    kind,
                    period.label,
                    channel,
                    fired.isoformat(),
                    deps.settings.digest.catch_up_days,
                )
            out[kind] = "missed"
    return out


def next_weekly_digest(settings: Settings, now: datetime) -> str:
    """When a win nominated at ``now`` will be shown: the first weekly run after this week ends."""
    from bot.i18n import translator

    t = translator(settings.locale)
    if not settings.digest.weekly.channels:
        return t("digest.win_modal.next_unscheduled")
    tz = settings.tz
    week_end = last_finished("weekly", now, tz).next().bounds_utc(tz)[1]
    fire = trigger_for(settings, "weekly").get_next_fire_time(None, week_end.astimezone(tz))
    if fire is None:
        return t("digest.win_modal.next_unscheduled")
    local = fire.astimezone(tz)
    return t("digest.win_modal.next_at", date=local.strftime("%Y-%m-%d"), time=local.strftime("%H:%M"))
