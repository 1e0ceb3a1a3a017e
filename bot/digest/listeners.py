"""The "Share as SNS win" message shortcut and its modal (Slack I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.db import unit_of_work
from bot.digest import service, ui
from bot.digest.ids import BlockId, CallbackId, WinTarget
from bot.digest.jobs import next_weekly_digest
from bot.errors import BotError

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router


class DigestListeners:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def handle_share_win_shortcut(
        self, ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        message = shortcut.get("message") or {}
        target = WinTarget(
            channel_id=shortcut["channel"]["id"],
            message_ts=shortcut.get("message_ts") or message["ts"],
            author=message.get("user"),
        )
        view = ui.build_win_modal(
            target=target,
            message_text=message.get("text") or "",
            settings=self._deps.settings,
            t=self._deps.t,
        )
        await client.views_open(trigger_id=shortcut["trigger_id"], view=view)

    async def handle_win_submission(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        deps = self._deps
        t = deps.t
        try:  # before the ack: a refused target is shown in the modal and nothing is saved
            target = WinTarget.decode(view.get("private_metadata"))
        except BotError as error:
            raise BotError(error.key, block_id=BlockId.WIN_WHAT) from None
        win, problems = ui.parse_win_modal(view, settings=deps.settings)
        if win is None:
            await ack(response_action="errors", errors={block: t(key) for block, key in problems.items()})
            return
        when = next_weekly_digest(deps.settings, deps.clock.now())
        await ack(response_action="update", view=ui.build_win_saved_view(next_digest=when, t=t))
        permalink: str | None
        try:
            found = await client.chat_getPermalink(channel=target.channel_id, message_ts=target.message_ts)
            permalink = found.get("permalink")
        except SlackApiError:
            # The bot may not see that channel; the win is still worth keeping without a link.
            permalink = None
        async with unit_of_work(deps.sessions) as session:
            await service.save_win(
                session,
                channel_id=target.channel_id,
                message_ts=target.message_ts,
                permalink=permalink,
                message_author=target.author,
                what=win.what,
                kpi_key=win.kpi_key,
                nominated_by=body["user"]["id"],
                now=deps.clock.now(),
            )


def register(app: Router, deps: Deps) -> None:
    listeners = DigestListeners(deps)
    app.shortcut(CallbackId.SHARE_WIN)(deps.listener(listeners.handle_share_win_shortcut, opens_modal=True))
    app.view(CallbackId.WIN_MODAL)(deps.listener(listeners.handle_win_submission))
