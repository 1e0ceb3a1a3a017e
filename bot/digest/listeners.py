"""Slack listeners of the digest feature (Slack I/O): "Share as SNS win" from a message's shortcut
or from the App Home's button (then the message link is asked first), the win modal, and the Home's
"Send me a digest preview" button for admins.

Both ways of sharing a win end in the same win modal and the same submission handler, so the rules
for a win (who, which message, what, which KPI) are written once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.db import unit_of_work
from bot.digest.facts import build_weekly
from bot.digest.ids import ActionId, BlockId, CallbackId, WinTarget, parse_message_link
from bot.digest.queries import posted_periods
from bot.digest.schedule import next_weekly_digest
from bot.digest.ui.message import to_message
from bot.digest.ui.updates import build_update_offer, build_update_result, decode_target
from bot.digest.ui.weekly import weekly_doc
from bot.digest.ui.wins import (
    build_win_link_modal,
    build_win_modal,
    build_win_saved_view,
    parse_win_link_modal,
    parse_win_modal,
)
from bot.digest.updates import UpdateOutcome, update_digest
from bot.digest.wins import save_win
from bot.errors import BotError, NotAllowed
from bot.i18n import Translator
from bot.participation import roster as participation
from bot.periods import PeriodKind, last_finished, parse_period
from bot.slack.errors import tell_user
from bot.slack.locales import MODAL_WAIT

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

log = logging.getLogger(__name__)


def _user(body: dict[str, Any]) -> str:
    user = body.get("user") or {}
    return str(user.get("id") or body.get("user_id") or "")


class DigestListeners:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def _win_modal(self, target: WinTarget, *, message_text: str, t: Translator) -> View:
        return build_win_modal(target=target, message_text=message_text, settings=self._deps.settings, t=t)

    # -- share a win ------------------------------------------------------------------------

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
        t = await self._deps.locales.for_user(_user(shortcut), wait=MODAL_WAIT)
        view = self._win_modal(target, message_text=message.get("text") or "", t=t)
        await client.views_open(trigger_id=shortcut["trigger_id"], view=view)

    async def handle_share_win_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The Home's button: the Home knows no message, so ask for its link first."""
        await ack()
        t = await self._deps.locales.for_user(_user(body), wait=MODAL_WAIT)
        await client.views_open(trigger_id=body["trigger_id"], view=build_win_link_modal(t=t))

    async def handle_win_link_submission(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        """The link names the message: go on to the win modal, as the shortcut does."""
        target = parse_message_link(parse_win_link_modal(view))
        if target is None:
            raise BotError("home.errors.bad_link", block_id=BlockId.WIN_LINK)
        t = self._deps.locales.known(_user(body))  # before the ack: no Slack call
        await ack(response_action="update", view=self._win_modal(target, message_text="", t=t))

    async def handle_win_submission(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        deps = self._deps
        t = deps.locales.known(_user(body))  # before the ack: no Slack call
        try:  # before the ack: a refused target is shown in the modal and nothing is saved
            target = WinTarget.decode(view.get("private_metadata"))
        except BotError as error:
            raise BotError(error.key, block_id=BlockId.WIN_WHAT) from None
        win, problems = parse_win_modal(view, settings=deps.settings)
        if win is None:
            await ack(response_action="errors", errors={block: t(key) for block, key in problems.items()})
            return
        when = next_weekly_digest(deps.settings, deps.clock.now(), t=t)
        await ack(response_action="update", view=build_win_saved_view(next_digest=when, t=t))
        permalink: str | None
        try:
            found = await client.chat_getPermalink(channel=target.channel_id, message_ts=target.message_ts)
            permalink = found.get("permalink")
        except SlackApiError:
            # The bot may not see that channel; the win is still worth keeping without a link.
            permalink = None
        async with unit_of_work(deps.sessions) as session:
            await save_win(
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

    # -- admin: digest preview ----------------------------------------------------------------

    async def handle_digest_preview_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """DM the admin the last finished week's digest as it would be posted (nothing is posted)."""
        await ack()
        deps, user_id = self._deps, _user(body)
        settings, t = deps.settings, deps.t
        mine = await deps.locales.for_user(user_id)  # what the admin reads; the preview is the post's
        if not settings.is_admin(user_id):
            # Told, not raised: Bolt (async, ack already sent) resets its ack record when a listener
            # raises within its 10 ms poll, and Slack then gets no answer to the click.
            error = NotAllowed("common.errors.not_admin")
            log.info("digest preview refused: %s", error.key)
            await tell_user(client, body, error.render(mine))
            return
        period = last_finished(PeriodKind.WEEKLY, deps.clock.now(), settings.tz)
        managers = await participation.managers(deps)
        async with unit_of_work(deps.sessions) as session:
            weekly = await build_weekly(session, period=period, settings=settings, managers=managers)
        doc = weekly_doc(weekly, settings=settings, t=t, tz=settings.tz)
        # No digest metadata: a preview must never be taken for the channel post by recovery.
        message = to_message(doc, metadata=None, t=t)
        await client.chat_postMessage(
            channel=user_id, text=mine("home.admin.preview_intro", period=period.label)
        )
        await client.chat_postMessage(channel=user_id, **message.kwargs())
        # Late data: the digests already posted for the last finished week and month can be
        # updated in place from here.
        month = last_finished(PeriodKind.MONTHLY, deps.clock.now(), settings.tz)
        async with unit_of_work(deps.sessions) as session:
            posted = await posted_periods(
                session, wanted=[(PeriodKind.WEEKLY, period.label), (PeriodKind.MONTHLY, month.label)]
            )
        offer = build_update_offer(posted, t=mine)
        if offer is not None:
            await client.chat_postMessage(channel=user_id, **offer.kwargs())

    async def handle_update_posted_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """An admin's Update button: edit the posted digest in place, once per click (a retried or
        doubled delivery of the same click, on any replica, does nothing more)."""
        await ack()
        deps, user_id = self._deps, _user(body)
        t = await deps.locales.for_user(user_id)  # the answer replaces the admin's own DM message
        if not deps.settings.is_admin(user_id):
            await tell_user(client, body, NotAllowed("common.errors.not_admin").render(t), respond)
            return
        action = (body.get("actions") or [{}])[0]
        target = decode_target(action.get("value"))
        container = body.get("container") or {}
        if target is None:
            log.warning("digest update: malformed button value %r", action.get("value"))
            return
        kind, label = target
        try:
            period = parse_period(PeriodKind(kind), label)
        except BotError as error:
            await tell_user(client, body, error.render(t), respond)
            return
        request = f"button:{container.get('channel_id')}:{container.get('message_ts')}:{kind}:{label}"
        results = await update_digest(deps, kind=PeriodKind(kind), period=period, request=request)
        if all(r.outcome is UpdateOutcome.DONE_BEFORE for r in results):
            return  # a repeated delivery of a click already carried out (its answer stands)
        lines = [
            t(
                f"digest_updates.outcome.{r.outcome}",
                kind=t(f"digest.kinds.{kind}"),
                period=label,
                channel=f"<#{r.channel}>",
                error=r.error or "",
            )
            for r in results
        ]
        answer = build_update_result(lines, t=t)
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if channel and ts:
            await client.chat_update(channel=channel, ts=ts, **answer.kwargs())


def register(app: Router, deps: Deps) -> None:
    listeners = DigestListeners(deps)
    track = deps.listener
    app.shortcut(CallbackId.SHARE_WIN)(track(listeners.handle_share_win_shortcut, opens_modal=True))
    app.action(ActionId.HOME_SHARE_WIN)(track(listeners.handle_share_win_action, opens_modal=True))
    app.action(ActionId.HOME_PREVIEW)(track(listeners.handle_digest_preview_action))
    app.action(ActionId.UPDATE_POSTED)(track(listeners.handle_update_posted_action))
    app.view(CallbackId.WIN_LINK_MODAL)(track(listeners.handle_win_link_submission))
    app.view(CallbackId.WIN_MODAL)(track(listeners.handle_win_submission))
