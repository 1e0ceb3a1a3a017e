"""The manager introduction's Slack I/O: the welcome DM (an outbox delivery, at least once: reading
a DM back needs ``im:history``) and the App Home's button that opens it again as a modal."""

from __future__ import annotations

from collections.abc import MutableSet
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.locales import MODAL_WAIT
from bot.welcome import ui
from bot.welcome.ids import ActionId, DeliveryKind

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

_SENT = "dm"


class WelcomeListeners:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def deliver_dm(self, payload: dict[str, Any], done: MutableSet[str]) -> None:
        if _SENT in done:
            return
        user_id = str(payload["user_id"])
        t = await self._deps.locales.for_user(user_id)  # a DM: the manager's own language
        message = ui.build_welcome(self._deps.settings, t)
        await self._deps.slack.chat_postMessage(channel=user_id, **message.kwargs())
        done.add(_SENT)

    async def handle_reopen_action(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        t = await self._deps.locales.for_user(user_id, wait=MODAL_WAIT)
        view = ui.build_modal(self._deps.settings, t)
        await client.views_open(trigger_id=body["trigger_id"], view=view)


def register(app: Router, deps: Deps) -> None:
    listeners = WelcomeListeners(deps)
    deps.outbox.register(DeliveryKind.DM, listeners.deliver_dm)
    app.action(ActionId.REOPEN.value)(deps.listener(listeners.handle_reopen_action, opens_modal=True))
