"""App Home listeners: publish the Home on ``app_home_opened``, and the Home's own buttons and modals
(start a review, share a win, digest preview) (Slack I/O).

Publishing always goes through ``deps.home`` (a :class:`~bot.home.publisher.HomePublisher`): the listener returns
at once and ``views.publish`` runs after a short debounce, coalesced per user. Approve / Request
changes buttons on the Home carry the review feature's action ids, so the review listeners handle
them, "record a KPI value" the KPI feature's, and away mode's pickers reach
:mod:`bot.away.listeners`; this module registers none of those.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.db import unit_of_work
from bot.digest import service as digest_service
from bot.digest import ui as digest_ui
from bot.errors import BotError, NotAllowed
from bot.home import queries, ui
from bot.home.ids import ActionId, BlockId, CallbackId, parse_message_link
from bot.kpi import rules as kpi_rules
from bot.periods import last_finished
from bot.slack.errors import tell_user

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

log = logging.getLogger(__name__)


def _user(body: dict[str, Any]) -> str:
    user = body.get("user") or {}
    return str(user.get("id") or body.get("user_id") or "")


async def publish_home(deps: Deps, user_id: str) -> None:
    """Read ``user_id``'s Home from the store and publish it (runs in the publisher's task)."""
    settings, now = deps.settings, deps.clock.now()
    is_manager = await deps.directory.is_manager(deps.slack, user_id)
    can_record = kpi_rules.may_record(settings, user_id=user_id, is_manager=is_manager)
    async with unit_of_work(deps.sessions) as session:
        data = await queries.load_home(
            session, settings=settings, user_id=user_id, is_manager=is_manager, can_record=can_record, now=now
        )
    view = ui.build_home(data, settings=settings, t=deps.t)
    await deps.slack.views_publish(user_id=user_id, view=view)


class HomeListeners:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self.publisher = deps.home

    # -- the Home ---------------------------------------------------------------------------

    async def handle_home_opened_event(self, event: dict[str, Any]) -> None:
        # Slack sends this event for the Messages tab too; only the Home tab is ours to draw.
        if event.get("tab") == "home" and event.get("user"):
            self.publisher.show(str(event["user"]))

    # -- share a win ------------------------------------------------------------------------

    async def handle_share_win_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=ui.build_share_win_modal(t=self._deps.t))

    async def handle_share_win_submission(self, ack: AsyncAck, view: dict[str, Any]) -> None:
        """Step two is the digest feature's own win modal, so its listener saves the win."""
        target = parse_message_link(ui.parse_share_win_modal(view))
        if target is None:
            raise BotError("home.errors.bad_link", block_id=BlockId.WIN_LINK)
        win_view = digest_ui.build_win_modal(
            target=target, message_text="", settings=self._deps.settings, t=self._deps.t
        )
        await ack(response_action="update", view=win_view)

    # -- refusals ---------------------------------------------------------------------------

    async def _refuse(self, client: AsyncWebClient, body: dict[str, Any], error: BotError) -> None:
        """Tell the clicker why nothing changed. Raising instead would reach the same words through the
        error handler, but Bolt (async, ack already sent) resets its ack record when a listener raises
        within its 10 ms poll, and Slack then gets no answer to the click."""
        log.info("home action refused: %s", error.key)
        await tell_user(client, body, error.render(self._deps.t))

    # -- admin: digest preview --------------------------------------------------------------

    async def handle_digest_preview_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """DM the admin the last finished week's digest as it would be posted (nothing is posted)."""
        await ack()
        deps, user_id = self._deps, _user(body)
        if not deps.settings.is_admin(user_id):
            await self._refuse(client, body, NotAllowed("common.errors.not_admin"))
            return
        settings, t = deps.settings, deps.t
        period = last_finished("weekly", deps.clock.now(), settings.tz)
        async with unit_of_work(deps.sessions) as session:
            weekly = await digest_service.build_weekly(session, period=period, settings=settings)
        doc = digest_ui.weekly_doc(weekly, settings=settings, t=t, tz=settings.tz)
        # No digest metadata: a preview must never be taken for the channel post by recovery.
        message = digest_ui.to_message(doc, metadata=None, t=t)
        await client.chat_postMessage(
            channel=user_id, text=t("home.admin.preview_intro", period=period.label)
        )
        await client.chat_postMessage(channel=user_id, **message.kwargs())


def register(app: Router, deps: Deps) -> None:
    listeners = HomeListeners(deps)
    track = deps.listener
    app.event("app_home_opened")(track(listeners.handle_home_opened_event))
    app.action(ActionId.SHARE_WIN.value)(track(listeners.handle_share_win_action, opens_modal=True))
    app.action(ActionId.DIGEST_PREVIEW.value)(track(listeners.handle_digest_preview_action))
    app.view(CallbackId.SHARE_WIN.value)(track(listeners.handle_share_win_submission))
