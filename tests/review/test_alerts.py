"""Reminder and escalation claims on SQLite and PostgreSQL: sent once, inside working hours."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.calendars import working_hours_calendar
from bot.review import alerts
from bot.review.models import ReviewRequest
from tests.conftest import NOW, make_settings
from tests.review.store_support import SETTINGS, create, events


async def test_alert_claims_are_sent_once_and_wait_for_working_hours(run: Any) -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["review"].update(remind_after_hours=2, escalate_after_hours=40)

    review = make_settings(change=change).review
    calendar = working_hours_calendar(review.working_hours, SETTINGS.tz)
    request = await create(run)  # Wednesday 10:00 JST

    async def claim(minutes: float) -> Any:
        return await run(
            lambda s: alerts.claim_alert(
                s,
                request_id=request.id,
                now=NOW + timedelta(minutes=minutes),
                review=review,
                calendar=calendar,
            )
        )

    assert await run(lambda s: alerts.due_alerts(s, now=NOW)) == [request.id]
    assert await claim(0) is None  # not due: the next check moves to 12:00
    assert await run(lambda s: alerts.due_alerts(s, now=NOW + timedelta(minutes=119))) == []
    first = await claim(120)
    assert (first.kind, first.number) == ("remind", 1)
    assert await claim(120) is None  # the next one is 4 working hours later
    row = await run(lambda s: s.get(ReviewRequest, request.id))
    assert (row.reminders_sent, row.next_reminder_at) == (1, NOW + timedelta(hours=6))
    # A sweep running at night finds the reminder due but waits for the morning.
    assert await claim(60 * 12) is None
    row = await run(lambda s: s.get(ReviewRequest, request.id))
    assert row.next_reminder_at == NOW + timedelta(hours=23)  # Thursday 09:00
    assert [e[0] for e in await events(run, request.id)] == ["requested", "reminded"]


async def test_an_alert_claimed_elsewhere_rolls_back(run: Any) -> None:
    from bot.keys import claim_key
    from bot.review.policy import next_alert

    review = SETTINGS.review
    calendar = working_hours_calendar(review.working_hours, SETTINGS.tz)
    # Due in two days: the first reminder comes half-way to the escalation the due time brings.
    request = await create(run)
    alert = next_alert(
        waiting_since=NOW,
        reminders_sent=0,
        escalated=False,
        due_at=request.due_at,
        settings=review,
        calendar=calendar,
    )
    assert alert.kind == "remind"
    await run(lambda s: claim_key(s, key=f"review:{request.id}:1:0:remind:1", now=NOW))
    with pytest.raises(alerts.AlreadyClaimed):
        await run(
            lambda s: alerts.claim_alert(
                s, request_id=request.id, now=alert.at, review=review, calendar=calendar
            )
        )
    row = await run(lambda s: s.get(ReviewRequest, request.id))
    assert (row.reminders_sent, row.escalated_at, row.version) == (0, None, 1)
    assert [e[0] for e in await events(run, request.id)] == ["requested"]
