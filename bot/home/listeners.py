"""App Home listener: publish a user's Home when they open it (Slack I/O).

Publishing always goes through ``deps.home`` (a :class:`~bot.home.publisher.HomePublisher`): the
listener returns at once and ``views.publish`` runs after a short debounce, coalesced per user. Every
button the Home shows belongs to another feature, which handles it: Approve / Request changes and
"Ask for a review" the review listeners, "record a KPI value" the KPI feature's, away mode's pickers
:mod:`bot.away.listeners`, "Share a win" and "Send me a digest preview" :mod:`bot.digest.listeners`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.db import unit_of_work
from bot.home import queries, ui
from bot.kpi import rules as kpi_rules
from bot.participation import roster

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

log = logging.getLogger(__name__)


async def publish_home(deps: Deps, user_id: str) -> None:
    """Read ``user_id``'s Home from the store and publish it (runs in the publisher's task)."""
    settings, now = deps.settings, deps.clock.now()
    is_manager = await deps.directory.is_manager(deps.slack, user_id)
    can_record = kpi_rules.may_record(settings, user_id=user_id, is_manager=is_manager)
    managers = await roster.managers(deps) if is_manager else None
    async with unit_of_work(deps.sessions) as session:
        data = await queries.load_home(
            session,
            settings=settings,
            user_id=user_id,
            is_manager=is_manager,
            can_record=can_record,
            now=now,
            managers=managers,
        )
    t, language = await deps.locales.for_user(user_id), await deps.locales.choice(user_id)
    view = ui.build_home(data, settings=settings, t=t, language=language if deps.locales.per_user else None)
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


def register(app: Router, deps: Deps) -> None:
    listeners = HomeListeners(deps)
    track = deps.listener
    app.event("app_home_opened")(track(listeners.handle_home_opened_event))
