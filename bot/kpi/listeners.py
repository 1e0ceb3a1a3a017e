"""/sns-kpi listeners: acknowledge at once, then answer (Slack I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.kpi import ui

if TYPE_CHECKING:
    from bot.app import Deps


class KpiListeners:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def handle_kpi_command(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        text = (command.get("text") or "").strip()
        words = text.split()
        sub = words[0].lower() if words else ""
        t = self._deps.t
        if sub == "help":
            message = ui.build_help(self._deps.settings, t)
        else:
            message = ui.build_help(self._deps.settings, t, not_understood=text)
        await respond(response_type="ephemeral", **message.kwargs())


def register(app: AsyncApp, deps: Deps) -> None:
    listeners = KpiListeners(deps)
    app.command(deps.settings.slack.kpi_command)(deps.inflight.track(listeners.handle_kpi_command))
