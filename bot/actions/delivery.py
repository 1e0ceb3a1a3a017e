"""What a stored action item owes Slack: its message in the digest's thread, and that message updated
once the item is done — delivered right after the ack, and by the outbox sweep when Slack failed
(Slack I/O; each step safe to repeat)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import MutableSet
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import db
from bot.actions import ui
from bot.actions.commands import attach_message
from bot.actions.ids import DeliveryKind
from bot.actions.queries import get_item
from bot.actions.records import ItemView
from bot.periods import month_of
from bot.slack import outbox
from bot.slack.posting import post_once

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

#: Steps done (kept with the outbox item between attempts); ``…?``: tried, may have been posted.
_POSTED, _POST_TRIED = "posted", "posted?"
#: Slack errors after which an item's message cannot be updated (deleted, archived channel).
_GONE = ("message_not_found", "channel_not_found", "cant_update_message", "is_archived")


async def owe(session: AsyncSession, *, kind: DeliveryKind, item_id: int, now: datetime) -> outbox.Owed:
    """Owe the Slack side of an item's change, in the change's own transaction."""
    key = f"{kind.value}:{item_id}:{uuid.uuid4().hex}"
    return await outbox.enqueue(
        session, kind=kind.value, key=key, payload={"item_id": item_id, "key": key}, now=now
    )


class ActionDelivery:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def register(self) -> None:
        self._deps.outbox.register(DeliveryKind.ADDED, self.deliver_added)
        self._deps.outbox.register(DeliveryKind.DONE, self.deliver_done)

    async def _item(self, item_id: int) -> ItemView | None:
        async def unit() -> ItemView | None:
            async with db.unit_of_work(self._deps.sessions) as session:
                return await get_item(session, item_id=item_id)

        return await db.with_retry(unit)

    def _month(self) -> Any:
        return month_of(self._deps.clock.now().astimezone(self._deps.settings.tz).date()).previous()

    async def deliver_added(self, payload: dict[str, Any], done: MutableSet[str]) -> None:
        """Post the item's message in the digest's thread once, and remember its ts."""
        item = await self._item(int(payload["item_id"]))
        if item is None or _POSTED in done or item.message_ts is not None:
            return
        retry = _POST_TRIED in done or outbox.MAYBE_DONE in done
        done.add(_POST_TRIED)
        message = ui.item_message(item, month=self._month(), t=self._deps.t)
        posted = await post_once(
            self._deps.slack,
            channel=item.channel_id,
            message=message,
            thread_ts=item.thread_ts,
            key=f"{payload['key']}:item",
            look_first=retry,
        )
        done.add(_POSTED)

        async def unit() -> None:
            async with db.unit_of_work(self._deps.sessions, write=True) as session:
                await attach_message(session, item_id=item.id, message_ts=posted.ts)

        await db.with_retry(unit)

    async def deliver_done(self, payload: dict[str, Any], done: MutableSet[str]) -> None:
        """Show the item as done on its message (the button goes away)."""
        item = await self._item(int(payload["item_id"]))
        if item is None or item.message_ts is None:
            return
        message = ui.item_message(item, month=self._month(), t=self._deps.t)
        try:
            await self._deps.slack.chat_update(
                channel=item.channel_id, ts=item.message_ts, **message.kwargs()
            )
        except SlackApiError as exc:
            if exc.response.get("error") not in _GONE:
                raise
            log.info("action item %s: its message is gone (%s)", item.id, exc.response.get("error"))
