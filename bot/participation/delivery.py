"""The nudge DM as outbox work (Slack I/O): owed in the transaction that claims the nudge, delivered at
once and swept until done, so a nudge is neither lost (a process dying between the claim and the DM)
nor doubled (a retry looks in the DM for the post first, and a nudge recorded as sent is not sent
again)."""

from __future__ import annotations

import logging
from collections.abc import MutableSet
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import db
from bot.away.queries import away_users
from bot.participation import commands, queries
from bot.participation.ids import DeliveryKind, NudgeStatus, nudge_key
from bot.participation.models import ParticipationNudge
from bot.participation.policy import may_nudge_now
from bot.participation.roster import nudge_calendar
from bot.participation.ui import NUDGE_WINS, nudge_message
from bot.periods import PeriodKind, parse_period
from bot.slack import outbox
from bot.slack.posting import post_once

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

#: In ``done`` once a post was sent: the next attempt looks for it in the DM first.
_TRIED = "post?"
_SENT = "dm"


async def owe(session: AsyncSession, *, user_id: str, slot: str, week: str, now: datetime) -> outbox.Owed:
    """Owe the nudge of ``slot`` to ``user_id`` showing the wins of ``week`` (``2026-W46``), in the
    transaction that claimed it."""
    key = nudge_key(user_id, slot)
    payload = {"user_id": user_id, "slot": slot, "week": week, "key": key}
    return await outbox.enqueue(session, kind=DeliveryKind.NUDGE.value, key=key, payload=payload, now=now)


class NudgeDelivery:
    """Sends owed nudges (the outbox delivery of :attr:`DeliveryKind.NUDGE`)."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def register(self) -> None:
        self._deps.outbox.register(DeliveryKind.NUDGE.value, self.deliver)

    async def deliver(self, payload: dict[str, Any], done: MutableSet[str]) -> None:
        deps = self._deps
        if _SENT in done:
            return
        user_id, slot, key = str(payload["user_id"]), str(payload["slot"]), str(payload["key"])
        now = deps.clock.now()
        today = now.astimezone(deps.settings.tz).date()
        async with db.unit_of_work(deps.sessions) as session:
            nudge = (
                await session.execute(
                    select(ParticipationNudge.status, ParticipationNudge.claimed_at).where(
                        ParticipationNudge.user_id == user_id, ParticipationNudge.slot == slot
                    )
                )
            ).first()
            away = user_id in await away_users(session, on=today)
            last = (await queries.last_participation(session, users=[user_id])).get(user_id)
            off = await queries.nudges_off(session, user_id=user_id)
        if nudge is None or nudge.status == NudgeStatus.SENT.value:  # gone, or sent with its outbox mark lost
            done.add(_SENT)
            return
        if away or off or (last is not None and last >= nudge.claimed_at):
            # A retry found them away, switched off or no longer silent: nothing to nudge about.
            log.info("participation: nudge %s to %s dropped (away, off or took part since)", slot, user_id)
            done.add(_SENT)
            return
        if not may_nudge_now(now, nudge_calendar(deps.settings)):
            # A retry that falls at night or on a holiday waits for the next opening (the sweep).
            raise outbox.DeliveryFailed("outside working hours")
        week = parse_period(PeriodKind.WEEKLY, str(payload["week"]))
        start, end = week.bounds_utc(deps.settings.tz)
        wins = await deps.wins.recent(start=start, end=end, limit=NUDGE_WINS)
        # A DM reads in its reader's language (their App Home choice, else their Slack locale).
        message = nudge_message(user_id=user_id, wins=wins, slot=slot, t=await deps.locales.for_user(user_id))
        opened = await deps.slack.conversations_open(users=user_id)
        channel = str((opened.get("channel") or {}).get("id") or user_id)
        look = _TRIED in done or outbox.MAYBE_DONE in done
        done.add(_TRIED)
        await post_once(deps.slack, channel=channel, message=message, key=key, look_first=look)
        done.add(_SENT)
        async with db.unit_of_work(deps.sessions, write=True) as session:
            await commands.nudge_sent(session, user_id=user_id, slot=slot, now=deps.clock.now())
        log.info("participation: nudge %s sent to %s", slot, user_id)
