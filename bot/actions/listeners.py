"""The action items' Slack I/O: "Add an action item" on a monthly digest (modal, submission) and
"Mark as done" on the item's message or the owner's App Home.

Every click is acknowledged first; the submission is validated before its ack (errors inline) and
stored after it, once per modal (a claim on the view id and hash), with the item's message owed in
the outbox in the same transaction.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot import db
from bot.actions import ui
from bot.actions.commands import add_item, mark_done
from bot.actions.delivery import ActionDelivery, owe
from bot.actions.ids import ActionId, AddTarget, CallbackId, DeliveryKind, claim_add_key, parse_item_id
from bot.errors import BotError
from bot.keys import claim_key
from bot.periods import Period, month_of
from bot.slack.locales import MODAL_WAIT

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

log = logging.getLogger(__name__)


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


class ActionListeners:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _current(self) -> Period:
        return month_of(self._deps.clock.now().astimezone(self._deps.settings.tz).date())

    async def handle_add_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The digest's button: its period (button value) and message (the click's container)."""
        await ack()
        container = body.get("container") or {}
        target = AddTarget.of(action.get("value"), container.get("channel_id"), container.get("message_ts"))
        t = await self._deps.locales.for_user(_user(body), wait=MODAL_WAIT)  # a modal: the clicker's language
        view = ui.build_add_modal(target, current=self._current(), t=t)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def handle_add_submission(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        deps = self._deps
        try:
            item = ui.parse_add_modal(view, current=self._current())
        except BotError as error:
            if error.block_id:  # before the ack: the language this process already knows for them
                t = deps.locales.known(_user(body))
                await ack(response_action="errors", errors={error.block_id: error.render(t)})
                return
            raise
        await ack()
        user_id, now = _user(body), deps.clock.now()

        async def unit() -> Any:
            async with db.unit_of_work(deps.sessions, write=True) as session:
                # One modal, one item: a double click on Add or Slack's retry adds nothing more.
                if not await claim_key(session, key=claim_add_key(view.get("id"), view.get("hash")), now=now):
                    return None
                added = await add_item(session, item=item, user_id=user_id, now=now)
                return await owe(session, kind=DeliveryKind.ADDED, item_id=added.id, now=now)

        owed = await db.with_retry(unit)
        if owed is None:
            log.info("action item modal %s submitted twice; the second one is ignored", view.get("id"))
            return
        await deps.outbox.deliver(owed)
        deps.home.refresh([item.owner_id])

    async def handle_done_action(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """ "Mark as done": the owner (or an admin), once; refusals are told to the clicker."""
        await ack()
        deps, user_id, now = self._deps, _user(body), self._deps.clock.now()
        item_id = parse_item_id(action.get("value"))

        async def unit() -> Any:
            async with db.unit_of_work(deps.sessions, write=True) as session:
                done = await mark_done(
                    session,
                    item_id=item_id,
                    user_id=user_id,
                    is_admin=deps.settings.is_admin(user_id),
                    now=now,
                )
                return done, await owe(session, kind=DeliveryKind.DONE, item_id=done.id, now=now)

        done, owed = await db.with_retry(unit)
        await deps.outbox.deliver(owed)
        deps.home.refresh([done.owner_id, user_id])


def register(app: Router, deps: Deps) -> None:
    ActionDelivery(deps).register()
    listeners = ActionListeners(deps)
    track = deps.listener
    app.action(ActionId.ADD.value)(track(listeners.handle_add_action, opens_modal=True))
    app.view(CallbackId.ADD.value)(track(listeners.handle_add_submission))
    app.action(ActionId.DONE.value)(track(listeners.handle_done_action))
