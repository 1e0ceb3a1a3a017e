"""The review reminder sweep: remind the current step's approvers in the thread and escalate overdue requests
(scheduled I/O: store + Slack).

Each alert is claimed in the store before it is sent (see :func:`bot.review.alerts.claim_alert`), so restarts
and several replicas never send one twice. The price is at-most-once: a send that fails after
the claim (and after ``post_once``'s own retries of Slack's transient errors) is logged, not retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot import db
from bot.away.policy import ReminderRouting, route_reminder
from bot.away.queries import away_until_by_user, delegates_while_away
from bot.calendars import working_hours_calendar
from bot.review.alerts import AlertClaim, AlreadyClaimed, claim_alert, due_alerts
from bot.review.ids import AlertKind
from bot.review.notices import build_escalation, build_reminder
from bot.review.records import RequestSnapshot
from bot.slack.posting import post_once

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

JOB_ID = "review.sweep"


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep sent (request ids), for logs and tests."""

    reminded: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


async def _route(
    deps: Deps, request: RequestSnapshot
) -> tuple[ReminderRouting, dict[str, date], dict[str, str]]:
    """Who to remind: the step's approvers who have not acted, minus those away (App Home) — their
    delegates instead —, else the step's other approvers, else the admins."""
    today = deps.clock.now().astimezone(deps.settings.tz).date()
    async with db.unit_of_work(deps.sessions) as session:
        away_until = await away_until_by_user(session, on=today)
        delegates = await delegates_while_away(session, on=today)
    step = request.step
    routing = route_reminder(
        waiting_on=step.waiting_on if step else (),
        step_approvers=step.approvers if step else (),
        away=away_until.keys(),
        admins=deps.settings.roles.admins,
        requester=request.requester_id,
        delegates=delegates,
    )
    return routing, {user: away_until[user] for user in routing.away}, delegates


async def _send(deps: Deps, claim: AlertClaim) -> None:
    settings, t, request = deps.settings, deps.t, claim.request
    if claim.kind is AlertKind.REMIND:
        routing, away, delegates = await _route(deps, request)
        message = build_reminder(
            request,
            number=claim.number,
            settings=settings,
            t=t,
            to=routing.to,
            away=away,
            delegates=delegates,
        )
        channel = request.channel_id or settings.review.channel
        await post_once(deps.slack, channel=channel, message=message, thread_ts=request.message_ts)
        return
    message = build_escalation(request, settings=settings, t=t)
    channel = settings.review.escalation_channel or settings.review.channel
    await post_once(deps.slack, channel=channel, message=message)


async def run_sweep(deps: Deps, *, now: datetime | None = None) -> SweepReport:
    """Send every reminder and escalation that is due at ``now`` (default: the clock)."""
    now = now or deps.clock.now()
    review = deps.settings.review
    calendar = working_hours_calendar(review.working_hours, deps.settings.tz)
    report = SweepReport()

    async def due() -> list[int]:
        async with db.unit_of_work(deps.sessions) as session:
            return await due_alerts(session, now=now)

    for request_id in await db.with_retry(due):

        async def claim(request_id: int = request_id) -> AlertClaim | None:
            async with db.unit_of_work(deps.sessions) as session:
                return await claim_alert(
                    session, request_id=request_id, now=now, review=review, calendar=calendar
                )

        try:
            claimed = await db.with_retry(claim)
            if claimed is None:
                continue
            await _send(deps, claimed)
        except AlreadyClaimed as exc:
            log.info("review %s: alert %s was already sent by another run", request_id, exc)
            continue
        except Exception:  # one broken request must not stop the others' reminders
            log.exception("review %s: reminder sweep failed for this request", request_id)
            report.failed.append(request_id)
            continue
        (report.reminded if claimed.kind is AlertKind.REMIND else report.escalated).append(request_id)
        log.info("review %s: %s #%d sent", request_id, claimed.kind, claimed.number)
    return report


def register_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    """The sweep on ``review.sweep_cron`` in the configured zone."""
    scheduler.add_job(
        deps.inflight.track(run_sweep),
        CronTrigger.from_crontab(deps.settings.review.sweep_cron, timezone=deps.settings.tz),
        args=[deps],
        id=JOB_ID,
        name="review reminder sweep",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=300,
        max_instances=1,
    )
