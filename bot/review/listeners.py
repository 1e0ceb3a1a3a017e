"""/sns-review listeners (Slack I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.review import ui

if TYPE_CHECKING:
    from bot.app import Deps


class ReviewListeners:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def handle_review_command(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        text = (command.get("text") or "").strip()
        sub = text.split()[0].lower() if text else ""
        t = self._deps.t
        if sub == "help":
            message = ui.build_help(self._deps.settings, t)
        else:
            message = ui.build_help(self._deps.settings, t, not_understood=text)
        await respond(response_type="ephemeral", **message.kwargs())


def register(app: AsyncApp, deps: Deps) -> None:
    listeners = ReviewListeners(deps)
    app.command(deps.settings.slack.review_command)(deps.inflight.track(listeners.handle_review_command))
