"""The mid-month pace check: on the alert day, one short alert per KPI behind its linear pace to the
configured channel, exactly once per month (I/O: store, Slack through the outbox; the rule is
:mod:`bot.kpi.pace`, the day :mod:`bot.pace.schedule`).

The job runs hourly at ``[pace] at``'s minute in every scheduling replica; it acts on the alert day
from ``at`` on and within working hours, so a process (re)started later that day still sends it; a
bot down for all of that day's working hours catches up on one of the ``[pace] catch_up_days``
business days after it (the figures as of then, the alert saying it is late). The month's check is
claimed with an exactly-once key in the transaction that owes the alerts in the outbox: one replica,
one time; an alert Slack refused is retried by the outbox sweep.
"""

from __future__ import annotations

import logging
from collections.abc import MutableSet
from datetime import date
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.calendars import business_days, working_hours_calendar
from bot.db import unit_of_work
from bot.errors import BotError
from bot.keys import claim_key
from bot.kpi.pace import Pace, pace_of
from bot.kpi.queries import kpi_months
from bot.pace.ids import ALL_ON_PACE, DeliveryKind, JobId, alert_key, month_key
from bot.pace.schedule import alert_day, due_month, remaining_business_days
from bot.pace.ui import Late, build_alert, build_all_on_pace
from bot.periods import PeriodKind, elapsed_share, parse_period
from bot.slack import outbox
from bot.slack.posting import post_once

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

#: A missed hourly run is still worth doing within this many seconds.
MISFIRE_GRACE_SECONDS = 1800
_TRIED = "post?"


def register_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    """The hourly pace check, when ``[pace] channel`` is set, and its alerts' outbox delivery."""
    register_delivery(deps)
    pace = deps.settings.pace
    if pace.channel is None:
        return
    scheduler.add_job(
        deps.inflight.track(run_pace_check),
        CronTrigger(minute=pace.at.minute, timezone=deps.settings.tz),
        args=[deps],
        id=str(JobId.CHECK),
        name="pace check",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        replace_existing=True,
    )


def register_delivery(deps: Deps) -> None:
    deps.outbox.register(DeliveryKind.ALERT.value, lambda payload, done: _deliver(deps, payload, done))


def _payload(pace: Pace, *, month: str, channel: str, late: dict[str, str]) -> dict[str, Any]:
    key = alert_key(month, pace.kpi.key)
    return {
        **late,
        "key": key,
        "channel": channel,
        "month": month,
        "kpi": pace.kpi.key,
        "value": pace.value,
        "target": pace.target,
        "expected": pace.expected,
        "shortfall_pct": pace.shortfall_pct,
        "remaining_days": pace.remaining_days,
        "per_day": pace.per_day,
        "over_target": pace.over_target,
    }


async def run_pace_check(deps: Deps) -> list[str]:
    """Alert the KPIs behind pace when today is the alert day (once a month); the keys it owed."""
    settings = deps.settings
    config = settings.pace
    if config.channel is None:
        return []
    now = deps.clock.now()
    calendar = business_days(settings)
    month = due_month(
        calendar, now, tz=settings.tz, day=config.day, at=config.at, catch_up=config.catch_up_days
    )
    hours = working_hours_calendar(settings.review.working_hours, settings.tz)
    if (
        month is None or hours.next_opening(now) != now
    ):  # not today, or not now: after closing, nobody reads it
        return []
    today = now.astimezone(settings.tz).date()
    due_on = alert_day(calendar, month, day=config.day)
    # A catch-up says so: the figures are today's, the alert was due on ``due_on``.
    late = {"as_of": today.isoformat(), "due_on": due_on.isoformat()} if due_on and due_on != today else {}
    try:
        async with unit_of_work(deps.sessions) as session:
            values = await kpi_months(session, settings=settings, months=[month])
        elapsed = elapsed_share(month, now, settings.tz)
        left = remaining_business_days(calendar, today, month)
        paces = [
            pace_of(
                k,
                values[k.key][0],
                elapsed=elapsed,
                remaining_days=left,
                threshold_percent=config.threshold_percent,
            )
            for k in settings.kpis
        ]
        judged = [p for p in paces if p is not None]
        behind = [p for p in judged if p.behind]
        owed: list[outbox.Owed] = []
        async with unit_of_work(deps.sessions, write=True) as session:
            if not await claim_key(session, key=month_key(month.label), now=now):
                return []  # this month's check ran already (here, in another replica, before a restart)
            for pace in behind:
                payload = _payload(pace, month=month.label, channel=config.channel, late=late)
                owed.append(
                    await outbox.enqueue(
                        session, kind=DeliveryKind.ALERT.value, key=payload["key"], payload=payload, now=now
                    )
                )
            if not behind and config.all_on_pace_line and judged:
                key = alert_key(month.label, ALL_ON_PACE)
                payload = {
                    **late,
                    "key": key,
                    "channel": config.channel,
                    "month": month.label,
                    "count": len(judged),
                }
                owed.append(
                    await outbox.enqueue(
                        session, kind=DeliveryKind.ALERT.value, key=key, payload=payload, now=now
                    )
                )
    except BotError as exc:  # the database is away: the next hourly run of the day tries again
        log.warning("pace check skipped: %s", exc.key)
        return []
    register_delivery(deps)  # also when called outside the scheduler (tests, a one-off run)
    for item in owed:
        await deps.outbox.deliver(item)  # a failure stays owed: the outbox sweep retries it
    log.info(
        "pace check %s: %d of %d KPI(s) behind%s",
        month.label,
        len(behind),
        len(judged),
        f" (caught up; due {late['due_on']})" if late else "",
    )
    return [item.key for item in owed]


def _late(payload: dict[str, Any]) -> Late | None:
    if "due_on" not in payload:
        return None
    return Late(
        due_on=date.fromisoformat(str(payload["due_on"])), as_of=date.fromisoformat(str(payload["as_of"]))
    )


async def _deliver(deps: Deps, payload: dict[str, Any], done: MutableSet[str]) -> None:
    settings, t = deps.settings, deps.t
    month = parse_period(PeriodKind.MONTHLY, str(payload["month"]))
    key, channel = str(payload["key"]), str(payload["channel"])
    late = _late(payload)
    if "count" in payload:
        message = build_all_on_pace(month=month, kpis=int(payload["count"]), t=t, late=late)
    else:
        kpi = settings.kpi_def(str(payload["kpi"]))
        if kpi is None:  # removed from the config since: nothing to say about it
            log.warning("pace alert %s: KPI %s is no longer configured", key, payload["kpi"])
            return
        pace = Pace(
            kpi=kpi,
            value=float(payload["value"]),
            target=float(payload["target"]),
            expected=float(payload["expected"]),
            shortfall_pct=float(payload["shortfall_pct"]),
            behind=True,
            remaining_days=int(payload["remaining_days"]),
            per_day=None if payload.get("per_day") is None else float(payload["per_day"]),
            over_target=bool(payload.get("over_target")),
        )
        message = build_alert(pace, month=month, settings=settings, t=t, late=late)
    look = _TRIED in done or outbox.MAYBE_DONE in done
    done.add(_TRIED)
    await post_once(deps.slack, channel=channel, message=message, key=key, look_first=look)
