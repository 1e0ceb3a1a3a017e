"""Digest scheduling: triggers (cron, or "first business day" for the monthly digest), the jobs,
the retry sweep and the start-up catch-up (I/O: scheduler, store and Slack through ``service``).

Jobs are thin: take ``now`` from the clock, compute the last finished period, call
``service.send_digest``. Double posts are prevented by the ``digest_run`` claim, not by the
scheduler, so several replicas may run the same jobs safely. A digest whose scheduled run did not
post it (Slack or the database down at fire time, a crashed poster) is retried by the sweep, every
:data:`SWEEP_SECONDS` in every scheduling process, within ``[digest] catch_up_days``.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.calendars import business_days
from bot.config import Settings
from bot.db import unit_of_work
from bot.digest import service
from bot.digest.ids import JobId
from bot.errors import BotError
from bot.periods import Period, PeriodKind, last_finished, parse_period
from bot.workdays import WorkCalendar

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

#: The longest gap searched back for a schedule's previous fire time (a yearly cron still works).
_LOOKBACK_MAX = timedelta(days=400)
#: How often every scheduling process looks for digests to retry (two small queries when none is due).
SWEEP_SECONDS = 60
_KINDS: tuple[PeriodKind, ...] = ("weekly", "monthly")


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


def trigger_for(settings: Settings, kind: PeriodKind) -> BaseTrigger:
    """The schedule of a digest kind in the configured zone."""
    tz = settings.tz
    if kind == "weekly":
        return CronTrigger.from_crontab(settings.digest.weekly.cron, timezone=tz)
    monthly = settings.digest.monthly
    if monthly.cron:
        return CronTrigger.from_crontab(monthly.cron, timezone=tz)
    return FirstBusinessDayTrigger(business_days(settings), monthly.at)


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


def fire_time_of(settings: Settings, kind: PeriodKind, period: Period) -> datetime | None:
    """When the schedule posts ``period``'s digest: its first fire time once the period is over."""
    tz = settings.tz
    end = period.bounds_utc(tz)[1].astimezone(tz)
    fire: datetime | None = trigger_for(settings, kind).get_next_fire_time(None, end)
    return fire


async def run_digest_sweep(deps: Deps) -> list[tuple[str, str]]:
    """The periodic retry: send every digest of a recent period that is not finished yet.

    Due are (1) unfinished claims whose lease ran out and whose backoff is over — a send whose
    retries ran out, a poster that died or lost the database, a channel that could not be read, a
    post whose attachments are missing — and (2) the last fire time's period in a channel with no
    row at all: its scheduled run could not even claim it (the database was down). Only periods
    whose fire time lies within ``[digest] catch_up_days`` count, as for the start-up catch-up; a
    fire time younger than one sweep interval is left to its own job. Several replicas may sweep at
    once: the claim row decides who posts.

    Returns:
        The (kind, period label) pairs it sent, for logs and tests.
    """
    settings = deps.settings
    now = deps.clock.now()
    grace = timedelta(days=settings.digest.catch_up_days)
    kinds = [kind for kind in _KINDS if service.channels_for(settings, kind)]
    due: dict[tuple[str, str], tuple[PeriodKind, Period]] = {}
    try:
        async with unit_of_work(deps.sessions) as session:
            for kind in kinds:
                fired = previous_fire_time(trigger_for(settings, kind), now, settings.tz)
                if fired is None or not timedelta(seconds=SWEEP_SECONDS) <= now - fired <= grace:
                    continue
                period = last_finished(kind, fired, settings.tz)
                have = await service.channels_with_runs(session, kind=kind, period=period.label)
                if set(service.channels_for(settings, kind)) - have:
                    due[(kind, period.label)] = (kind, period)
            runs = await service.due_runs(session, now=now)
    except BotError as exc:  # the database is down: the next sweep looks again
        log.warning("digest sweep skipped: %s", exc.key)
        return []
    for kind_name, label, channel in runs:
        kind = next((k for k in kinds if k == kind_name), None)
        if kind is None or (kind, label) in due or channel not in service.channels_for(settings, kind):
            continue
        try:
            period = parse_period(kind, label)
        except BotError:
            continue
        fired = fire_time_of(settings, kind, period)
        if fired is not None and now - fired <= grace:
            due[(kind, label)] = (kind, period)
    sent: list[tuple[str, str]] = []
    for kind, period in due.values():
        try:
            results = await service.send_digest(deps, kind=kind, period=period)
        except BotError as exc:
            log.warning("sweep: digest %s %s not sent: %s", kind, period.label, exc.key)
            continue
        for result in results:
            log.info("sweep: digest %s %s → %s: %s", kind, period.label, result.channel, result.outcome)
        sent.append((kind, period.label))
    return sent


def register_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    """Add the weekly and monthly digest jobs (only for kinds that have channels) and the sweep."""
    grace = max(60, int(deps.settings.digest.catch_up_days * 86400))
    kinds = [kind for kind in _KINDS if service.channels_for(deps.settings, kind)]
    for kind in kinds:
        scheduler.add_job(
            deps.inflight.track(run_digest_job),
            trigger_for(deps.settings, kind),
            args=[deps, kind],
            id=str(JobId.WEEKLY if kind == "weekly" else JobId.MONTHLY),
            name=f"{kind} digest",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=grace,
            replace_existing=True,
        )
    if kinds:
        every = timedelta(seconds=SWEEP_SECONDS)
        scheduler.add_job(
            deps.inflight.track(run_digest_sweep),
            # From the injected clock, not the wall clock (the interval trigger's default start).
            IntervalTrigger(
                seconds=SWEEP_SECONDS, start_date=deps.clock.now() + every, timezone=deps.settings.tz
            ),
            args=[deps],
            id=str(JobId.SWEEP),
            name="digest retry sweep",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=SWEEP_SECONDS,
            replace_existing=True,
        )


async def catch_up(deps: Deps) -> dict[str, str]:
    """At start: post a digest whose time passed while the bot was down, within the grace window.

    For each kind, the schedule's last fire time before now decides the period. Within
    ``catch_up_days`` it is sent (the claim makes this a no-op when it was posted already);
    beyond, channels without a row are recorded as ``missed`` and logged.

    Returns:
        kind → ``sent`` | ``missed`` | ``failed`` (the database is down; the sweep retries) |
        ``none`` (no earlier fire time or no channels), for logs and tests.
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
            try:
                results = await service.send_digest(deps, kind=kind, period=period)
            except BotError as exc:  # the database is down: the sweep sends it once it is back
                log.warning("catch-up: digest %s %s not sent: %s", kind, period.label, exc.key)
                out[kind] = "failed"
                continue
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
