"""App Home listeners: publish the Home on ``app_home_opened``, and the Home's own buttons and modals
(start a review) (Slack I/O).

Publishing always goes through ``deps.home`` (a :class:`~bot.home.publisher.HomePublisher`): the listener returns
at once and ``views.publish`` runs after a short debounce, coalesced per user. Approve / Request
changes buttons on the Home carry the review feature's action ids, so the review listeners handle
them, "record a KPI value" the KPI feature's, away mode's pickers reach :mod:`bot.away.listeners`,
and "Share a win" and "Send me a digest preview" reach :mod:`bot.digest.listeners`; this module
registers none of those.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ApprovalStep
from bot.db import unit_of_work
from bot.home import queries, ui
from bot.home.ids import ActionId
from bot.kpi import rules as kpi_rules
from bot.review import ui as review_ui

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

log = logging.getLogger(__name__)

#: How long resolving reviewer groups may take before the review modal opens without them
#: (the trigger id expires 3 s after the click).
DIRECTORY_TIMEOUT = 1.2


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

    # -- start a review ---------------------------------------------------------------------

    async def handle_start_review_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The ``/sns-review`` modal, with the first account's reviewers preselected, as the command does."""
        await ack()
        settings, requester = self._deps.settings, _user(body)
        first = settings.accounts[0] if settings.accounts else None
        steps = (
            first.approval
            if first is not None and first.approval
            else (ApprovalStep(settings.roles.managers),)
        )
        reviewers = await self._deps.directory.expand(client, steps[0].approvers, wait=DIRECTORY_TIMEOUT)
        view = review_ui.build_request_modal(
            settings=settings,
            t=self._deps.t,
            draft="",
            reviewers=[u for u in reviewers if u != requester],
            now=self._deps.clock.now(),
        )
        await client.views_open(trigger_id=body["trigger_id"], view=view)


def register(app: Router, deps: Deps) -> None:
    listeners = HomeListeners(deps)
    track = deps.listener
    app.event("app_home_opened")(track(listeners.handle_home_opened_event))
    app.action(ActionId.START_REVIEW.value)(track(listeners.handle_start_review_action, opens_modal=True))
