"""Participation's listeners: reactions and thread replies on the bot's posts (Events API, both modes),
the nudge's "remind me next week" and link buttons, and the App Home's nudge switch (Slack I/O).

Events are acknowledged by Bolt before these run, with no store work before the ack: a delivery that is
participation claims its ``event_id`` in the transaction that stores the mark (a repeat is dropped), and
the mark's natural key makes whatever still arrives twice change nothing. Every other message of a
channel the bot is in is dropped without touching the store.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.db import unit_of_work, with_retry
from bot.errors import NotAllowed
from bot.participation import commands
from bot.participation.ids import ActionId
from bot.participation.policy import Mark, next_week, reaction_mark, reply_mark
from bot.participation.ui import snoozed_message
from bot.slack.errors import tell_user

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

log = logging.getLogger(__name__)


def _user(body: dict[str, Any]) -> str:
    user = body.get("user") or {}
    return str(user.get("id") or body.get("user_id") or "")


def _event_time(body: dict[str, Any]) -> int:
    value = body.get("event_time")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _bot_user(context: Any) -> str | None:
    value = context.get("bot_user_id") if context is not None else None
    return str(value) if value else None


class ParticipationListeners:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def _record(self, mark: Mark | None, body: dict[str, Any]) -> None:
        """Store ``mark`` once: this delivery's ``event_id`` is claimed in the same transaction (the
        de-duplication middleware leaves these events to us, so that the many messages that are not
        participation cost no write before their ack)."""
        if mark is None:
            return
        event_id = body.get("event_id")
        deps = self._deps

        async def write() -> bool:
            async with unit_of_work(deps.sessions, write=True) as session:
                return await commands.record_mark(
                    session,
                    mark,
                    event_id=event_id if isinstance(event_id, str) else None,
                    now=deps.clock.now(),
                )

        if not await with_retry(write):
            log.info("duplicate event delivery ignored: %s", event_id)
            return
        log.info(
            "participation: %s %s by %s", mark.kind, "removed" if mark.removed else "recorded", mark.user_id
        )
        self._deps.home.refresh([mark.user_id])

    # -- events -------------------------------------------------------------------------------

    async def handle_reaction_event(self, body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        """``reaction_added`` / ``reaction_removed`` on one of the bot's messages."""
        await self._record(
            reaction_mark(event, bot_user_id=_bot_user(context), event_time=_event_time(body)), body
        )

    async def handle_message_event(self, body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        """A ``message`` in a channel the bot is in: only a reply in one of the bot's threads counts."""
        await self._record(
            reply_mark(event, bot_user_id=_bot_user(context), event_time=_event_time(body)), body
        )

    # -- actions ------------------------------------------------------------------------------

    async def handle_snooze_action(self, ack: AsyncAck, body: dict[str, Any], respond: Any) -> None:
        """The nudge's "Remind me next week": no nudge before next Monday, then one while still silent."""
        await ack()
        deps, user_id, now = self._deps, _user(body), self._deps.clock.now()
        day = next_week(now.astimezone(deps.settings.tz).date())
        async with unit_of_work(deps.sessions, write=True) as session:
            await commands.remind_on(session, user_id=user_id, day=day, now=now)
        message = snoozed_message(day=day, t=await deps.locales.for_user(user_id))
        await respond(replace_original=True, **message.kwargs())

    async def handle_open_wins_action(self, ack: AsyncAck) -> None:
        """The nudge's link button: Slack opens the URL and still sends the click, which needs an answer."""
        await ack()

    async def _set_nudges(self, body: dict[str, Any], client: AsyncWebClient, *, on: bool) -> None:
        deps, user_id, now = self._deps, _user(body), self._deps.clock.now()
        if not await deps.directory.is_manager(client, user_id):
            error = NotAllowed("participation.errors.managers_only")
            log.info("participation switch refused: %s", error.key)
            await tell_user(client, body, error.render(await deps.locales.for_user(user_id)))
            return
        async with unit_of_work(deps.sessions, write=True) as session:
            await commands.set_nudges(session, user_id=user_id, on=on, now=now)
        deps.home.show(user_id)

    async def handle_nudges_off_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await self._set_nudges(body, client, on=False)

    async def handle_nudges_on_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await self._set_nudges(body, client, on=True)


def register(app: Router, deps: Deps) -> None:
    listeners = ParticipationListeners(deps)
    track = deps.listener
    app.event("reaction_added")(track(listeners.handle_reaction_event))
    app.event("reaction_removed")(track(listeners.handle_reaction_event))
    app.event("message")(track(listeners.handle_message_event))
    app.action(ActionId.SNOOZE.value)(track(listeners.handle_snooze_action))
    app.action(ActionId.OPEN_WINS.value)(track(listeners.handle_open_wins_action))
    app.action(ActionId.NUDGES_OFF.value)(track(listeners.handle_nudges_off_action))
    app.action(ActionId.NUDGES_ON.value)(track(listeners.handle_nudges_on_action))
