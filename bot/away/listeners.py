"""Away mode's listeners: the away day and delegate pickers and their clear buttons on the App Home
(Slack I/O).

Each click is checked (managers and admins only; a day not yet over; a delegate who is another
configured manager), stored, and answered with the Home published afresh through ``deps.home``.
A refusal is told to the clicker and stores nothing.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.away import commands
from bot.away.ids import ActionId
from bot.db import unit_of_work
from bot.errors import BotError, NotAllowed
from bot.slack.errors import tell_user

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

log = logging.getLogger(__name__)


def _user(body: dict[str, Any]) -> str:
    user = body.get("user") or {}
    return str(user.get("id") or body.get("user_id") or "")


def _picked(body: dict[str, Any], field: str) -> object:
    """What the clicked picker holds (``selected_date``, ``selected_user``), as Slack sent it."""
    return (body.get("actions") or [{}])[0].get(field)


class AwayListeners:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def _refuse(self, client: AsyncWebClient, body: dict[str, Any], error: BotError) -> None:
        """Tell the clicker why nothing changed. Raising instead would reach the same words through the
        error handler, but Bolt (async, ack already sent) resets its ack record when a listener raises
        within its 10 ms poll, and Slack then gets no answer to the click."""
        log.info("away action refused: %s", error.key)
        t = await self._deps.locales.for_user(_user(body))
        await tell_user(client, body, error.render(t))

    async def _check_manager(self, client: AsyncWebClient, user_id: str) -> None:
        if not await self._deps.directory.is_manager(client, user_id):
            raise NotAllowed("away.errors.away_managers")

    async def _set_away(self, body: dict[str, Any], client: AsyncWebClient, until: date | None) -> None:
        deps, user_id, now = self._deps, _user(body), self._deps.clock.now()
        today = now.astimezone(deps.settings.tz).date()
        try:
            await self._check_manager(client, user_id)
            async with unit_of_work(deps.sessions) as session:
                await commands.set_away(session, user_id=user_id, until=until, today=today, now=now)
        except BotError as error:
            await self._refuse(client, body, error)
            return
        deps.home.show(user_id)

    async def handle_away_until_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        picked = _picked(body, "selected_date")
        try:
            until = date.fromisoformat(picked) if isinstance(picked, str) else None
        except ValueError:
            until = None
        await self._set_away(body, client, until)

    async def handle_away_clear_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await self._set_away(body, client, None)

    async def _set_delegate(self, body: dict[str, Any], client: AsyncWebClient, picked: object) -> None:
        """Store (or clear, ``picked=None``) who decides for the clicker while they are away."""
        deps, user_id, now = self._deps, _user(body), self._deps.clock.now()
        try:
            await self._check_manager(client, user_id)
            delegate = (
                None
                if picked is None
                else await commands.check_delegate(
                    directory=deps.directory, client=client, user_id=user_id, delegate=picked
                )
            )
            async with unit_of_work(deps.sessions, write=True) as session:
                await commands.set_delegate(session, user_id=user_id, delegate=delegate, now=now)
        except BotError as error:
            await self._refuse(client, body, error)
            # The picker shows what was picked; publish the Home again so it shows what is stored.
            deps.home.show(user_id)
            return
        deps.home.show(user_id)
        if delegate is not None:
            deps.home.show(delegate)

    async def handle_delegate_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await self._set_delegate(body, client, _picked(body, "selected_user"))

    async def handle_delegate_clear_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await self._set_delegate(body, client, None)


def register(app: Router, deps: Deps) -> None:
    listeners = AwayListeners(deps)
    track = deps.listener
    app.action(ActionId.AWAY_UNTIL.value)(track(listeners.handle_away_until_action))
    app.action(ActionId.AWAY_CLEAR.value)(track(listeners.handle_away_clear_action))
    app.action(ActionId.DELEGATE.value)(track(listeners.handle_delegate_action))
    app.action(ActionId.DELEGATE_CLEAR.value)(track(listeners.handle_delegate_clear_action))
