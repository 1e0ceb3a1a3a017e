"""Reminders and escalations of waiting requests in the store: which are due, and claiming one exactly
once before it is sent (I/O through a passed-in AsyncSession; no Slack).

The sweep that sends them is :mod:`bot.review.jobs`; when they are due is
:func:`bot.review.policy.next_alert`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import ReviewSettings
from bot.keys import claim_key
from bot.review.commands import guarded_update, new_event
from bot.review.ids import AlertKind, EventKind, Status
from bot.review.models import ReviewRequest
from bot.review.policy import next_alert
from bot.review.queries import get_request, load_row
from bot.review.records import RequestSnapshot
from bot.workdays import WorkCalendar

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlertClaim:
    """A reminder or escalation this process has claimed and must now send."""

    kind: AlertKind
    number: int
    request: RequestSnapshot


class AlreadyClaimed(Exception):
    """Another run sent this alert; raised inside the unit of work so its changes roll back."""


async def due_alerts(session: AsyncSession, *, now: datetime, limit: int = 200) -> list[int]:
    """Ids of waiting requests whose next reminder check is due."""
    rows = await session.scalars(
        select(ReviewRequest.id)
        .where(
            ReviewRequest.status == Status.PENDING.value,
            ReviewRequest.next_reminder_at.is_not(None),
            ReviewRequest.next_reminder_at <= now,
        )
        .order_by(ReviewRequest.next_reminder_at, ReviewRequest.id)
        .limit(limit)
    )
    return list(rows.all())


async def claim_alert(
    session: AsyncSession,
    *,
    request_id: int,
    now: datetime,
    review: ReviewSettings,
    calendar: WorkCalendar,
) -> AlertClaim | None:
    """Claim the request's due reminder or escalation, or push its next check to when one is due.

    Each alert has a key ``review:<id>:<revision>:<step>:<kind>:<n>`` claimed in the same
    transaction as the counters, so restarts and several replicas never send one twice.
    Outside working hours nothing is sent; the check moves to the next opening.

    Raises:
        AlreadyClaimed: the alert was sent by another run (the caller rolls back and moves on).
    """
    row = await load_row(session, request_id)
    if row.status != Status.PENDING.value:
        return None
    alert = next_alert(
        waiting_since=row.waiting_since,
        reminders_sent=row.reminders_sent,
        escalated=row.escalated_at is not None,
        due_at=row.due_at,
        settings=review,
        calendar=calendar,
    )
    if alert.at > now:
        row.next_reminder_at = alert.at
        return None
    opening = calendar.next_opening(now)
    if opening > now:
        log.info("review %s: %s due but outside working hours; next check %s", row.id, alert.kind, opening)
        row.next_reminder_at = opening
        return None
    escalated = row.escalated_at is not None or alert.kind is AlertKind.ESCALATE
    sent = row.reminders_sent + (1 if alert.kind is AlertKind.REMIND else 0)
    number = sent if alert.kind is AlertKind.REMIND else 1
    following = next_alert(
        waiting_since=row.waiting_since,
        reminders_sent=sent,
        escalated=escalated,
        due_at=row.due_at,
        settings=review,
        calendar=calendar,
    )
    values: dict[str, Any] = {"reminders_sent": sent, "next_reminder_at": max(following.at, now)}
    if alert.kind is AlertKind.ESCALATE:
        values["escalated_at"] = now
    if not await guarded_update(session, row, expected=Status.PENDING, **values):
        return None  # decided or moved on meanwhile; the next sweep looks again
    key = f"review:{row.id}:{row.revision}:{row.current_step}:{alert.kind.value}:{number}"
    if not await claim_key(session, key=key, now=now):
        raise AlreadyClaimed(key)
    kind = EventKind.REMINDED if alert.kind is AlertKind.REMIND else EventKind.ESCALATED
    session.add(
        new_event(
            row.id,
            kind,
            actor_id=None,
            revision=row.revision,
            step=row.current_step,
            now=now,
            data={"number": number, "due": alert.at.isoformat()},
        )
    )
    await session.flush()
    return AlertClaim(kind=alert.kind, number=number, request=await get_request(session, request_id=row.id))
