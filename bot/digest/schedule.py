"""When and where digests go: the channels of each kind, its trigger (cron, "first business day" for
the monthly digest, "Nth business day after the fiscal quarter" for the quarterly one), the period a
fire time posts, and the fire times before and after a moment (pure: no clock, no I/O).

The App Home reads these too (next run, the period last due).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.calendars import business_days
from bot.config import Settings
from bot.i18n import Translator
from bot.periods import Period, PeriodKind, last_finished, parse_period
from bot.workdays import WorkCalendar

#: The longest gap searched back for a schedule's previous fire time (a yearly cron still works).
_LOOKBACK_MAX = timedelta(days=400)
#: Every digest kind, weekly first.
KINDS: tuple[PeriodKind, ...] = (PeriodKind.WEEKLY, PeriodKind.MONTHLY, PeriodKind.QUARTERLY)


def channels_for(settings: Settings, kind: PeriodKind) -> tuple[str, ...]:
    """The channels a ``kind`` digest is posted to (none: the kind is off)."""
    if kind == PeriodKind.WEEKLY:
        return settings.digest.weekly.channels
    if kind == PeriodKind.QUARTERLY:
        return settings.digest.quarterly.active_channels
    return settings.digest.monthly.channels


def last_due(settings: Settings, kind: PeriodKind, moment: datetime) -> Period:
    """The period a run of ``kind`` at ``moment`` posts: the last one finished by then."""
    return last_finished(kind, moment, settings.tz, fiscal_start=settings.fiscal_year_start)


def period_named(settings: Settings, kind: PeriodKind, label: str) -> Period:
    """``2026-W47``, ``2026-11`` or ``2026-Q3`` (in the configured fiscal year) as a period.

    Raises:
        BotError: the label is not a period of ``kind`` (``periods.errors.*``).
    """
    return parse_period(kind, label, fiscal_start=settings.fiscal_year_start)


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


class QuarterStartTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 is untyped
    """Fires at local ``at`` on the ``business_day``-th business day of the first month of every
    fiscal quarter (the month after a quarter ends)."""

    __slots__ = ("calendar", "at", "business_day", "fiscal_start")

    def __init__(self, calendar: WorkCalendar, at: time, *, business_day: int, fiscal_start: int) -> None:
        self.calendar = calendar
        self.at = at
        self.business_day = business_day
        self.fiscal_start = fiscal_start

    def _day(self, year: int, month: int) -> date:
        day = self.calendar.first_business_day(year, month)
        for _ in range(self.business_day - 1):
            following = self.calendar.next_business_day(day + timedelta(days=1))
            if following.month != month:  # a month with fewer business days: its last one
                break
            day = following
        return day

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        start = min(now, previous_fire_time + timedelta(microseconds=1)) if previous_fire_time else now
        if previous_fire_time is not None and start <= previous_fire_time:
            start = previous_fire_time + timedelta(microseconds=1)
        local = start.astimezone(self.calendar.tz)
        year, month = local.year, local.month
        for _ in range(15):  # the next quarter start is at most three months away
            if (month - self.fiscal_start) % 3 == 0:
                run = datetime.combine(self._day(year, month), self.at, tzinfo=self.calendar.tz)
                if run >= start:
                    return run
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None

    def __str__(self) -> str:
        return f"business day {self.business_day} of each fiscal quarter at {self.at:%H:%M}"

    def __repr__(self) -> str:
        return (
            f"<QuarterStartTrigger (day={self.business_day}, at={self.at:%H:%M}, "
            f"fiscal_start={self.fiscal_start}, tz={self.calendar.tz})>"
        )


def trigger_for(settings: Settings, kind: PeriodKind) -> BaseTrigger:
    """The schedule of a digest kind in the configured zone."""
    tz = settings.tz
    if kind == PeriodKind.WEEKLY:
        return CronTrigger.from_crontab(settings.digest.weekly.cron, timezone=tz)
    if kind == PeriodKind.QUARTERLY:
        quarterly = settings.digest.quarterly
        return QuarterStartTrigger(
            business_days(settings),
            quarterly.at,
            business_day=quarterly.business_day,
            fiscal_start=settings.fiscal_year_start,
        )
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
        candidate: datetime | None = trigger.get_next_fire_time(None, local_now - window)
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


def fire_time_of(settings: Settings, kind: PeriodKind, period: Period) -> datetime | None:
    """When the schedule posts ``period``'s digest: its first fire time once the period is over."""
    tz = settings.tz
    end = period.bounds_utc(tz)[1].astimezone(tz)
    fire: datetime | None = trigger_for(settings, kind).get_next_fire_time(None, end)
    return fire


def next_weekly_digest(settings: Settings, now: datetime, *, t: Translator) -> str:
    """When a win nominated at ``now`` will be shown: the first weekly run after this week ends, in
    the language of whoever nominated it (``t``)."""
    if not settings.digest.weekly.channels:
        return t("digest.win_modal.next_unscheduled")
    tz = settings.tz
    week_end = last_finished(PeriodKind.WEEKLY, now, tz).next().bounds_utc(tz)[1]
    fire = trigger_for(settings, PeriodKind.WEEKLY).get_next_fire_time(None, week_end.astimezone(tz))
    if fire is None:
        return t("digest.win_modal.next_unscheduled")
    local = fire.astimezone(tz)
    return t("digest.win_modal.next_at", date=local.strftime("%Y-%m-%d"), time=local.strftime("%H:%M"))
