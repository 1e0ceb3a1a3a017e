"""The App Home's language selector (Slack I/O): store the person's pick and draw their Home again in
it. A value that is not one of the choices is refused and changes nothing."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import BotError
from bot.language.ids import ActionId
from bot.slack.errors import tell_user
from bot.slack.locales import Choice

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

log = logging.getLogger(__name__)


def _user(body: dict[str, Any]) -> str:
    user = body.get("user") or {}
    return str(user.get("id") or "")


class LanguageListeners:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def handle_choose_action(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user_id = _user(body)
        picked = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
        try:
            try:
                choice = Choice(str(picked))
            except ValueError:
                raise BotError("language.errors.bad_choice") from None
            await self._deps.locales.choose(user_id, choice)
        except BotError as error:
            # Told, not raised: Bolt (async, ack already sent) resets its ack record when a listener
            # raises within its 10 ms poll (see bot.slack.errors).
            log.info("language choice refused: %s (%r)", error.key, picked)
            await tell_user(client, body, error.render(await self._deps.locales.for_user(user_id)))
        # Drawn again: in the language just picked, or showing what is stored after a refusal.
        self._deps.home.show(user_id)


def register(app: Router, deps: Deps) -> None:
    listeners = LanguageListeners(deps)
    app.action(ActionId.CHOOSE.value)(deps.listener(listeners.handle_choose_action))
