"""The Slack side of a recorded milestone: its announcement in the team channel, owed in the outbox in
the transaction that recorded it and posted exactly once (Slack I/O)."""

from __future__ import annotations

import logging
from collections.abc import MutableSet
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import db
from bot.milestones.commands import mark_announced
from bot.milestones.ids import DeliveryKind, announce_key
from bot.milestones.queries import get_milestone
from bot.milestones.ui import build_announcement
from bot.slack import outbox
from bot.slack.posting import post_once

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

#: In ``done`` once a post was sent: the next attempt looks for it in the channel first.
_TRIED = "post?"


async def owe(session: AsyncSession, *, milestone_id: int, channel: str, now: datetime) -> outbox.Owed:
    """Owe the announcement of ``milestone_id`` in ``channel`` (in the transaction that recorded it)."""
    key = announce_key(milestone_id, channel)
    payload = {"milestone_id": milestone_id, "channel": channel, "key": key}
    return await outbox.enqueue(session, kind=DeliveryKind.ANNOUNCE.value, key=key, payload=payload, now=now)


class Announcer:
    """Posts owed announcements (the outbox delivery of :attr:`DeliveryKind.ANNOUNCE`)."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def register(self) -> None:
        self._deps.outbox.register(DeliveryKind.ANNOUNCE.value, self.deliver)

    async def deliver(self, payload: dict[str, Any], done: MutableSet[str]) -> None:
        deps = self._deps
        milestone_id, channel, key = (
            int(payload["milestone_id"]),
            str(payload["channel"]),
            str(payload["key"]),
        )
        async with db.unit_of_work(deps.sessions) as session:
            milestone = await get_milestone(session, milestone_id=milestone_id)
        if milestone is None:  # deleted by hand meanwhile: nothing to announce
            log.warning("milestone %s is gone; its announcement is dropped", milestone_id)
            return
        message = build_announcement(milestone.found, settings=deps.settings, t=deps.t)
        look = _TRIED in done or outbox.MAYBE_DONE in done
        done.add(_TRIED)
        posted = await post_once(deps.slack, channel=channel, message=message, key=key, look_first=look)
        async with db.unit_of_work(deps.sessions, write=True) as session:
            await mark_announced(
                session, milestone_id=milestone_id, channel=posted.channel, ts=posted.ts, now=deps.clock.now()
            )
        log.info("milestone %s announced in %s", milestone_id, channel)
