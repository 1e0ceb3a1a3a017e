"""/sns-kpi listeners: acknowledge at once (no DB), then answer ephemerally; a chart goes to the asker's
direct message with the bot, or to the channel when it is one of ``[kpi] chart_channels`` (Slack I/O)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.db import unit_of_work
from bot.errors import BotError, NotAllowed
from bot.kpi import service, ui
from bot.kpi.charts import render_trend_chart
from bot.periods import elapsed_share, month_of, months_back
from bot.slack.blocks import escape

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

log = logging.getLogger(__name__)

#: Months shown by ``/sns-kpi KEY``.
HISTORY_MONTHS = 12
#: Upload errors that mean "the bot cannot post in this channel"; the chart then goes to a DM.
_NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})


class KpiListeners:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def handle_kpi_command(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        await self._answer(command, respond=respond, client=client)

    async def _answer(
        self, command: dict[str, Any], *, respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        words = (command.get("text") or "").split()
        sub = words[0].lower() if words else ""
        user_id = command["user_id"]
        if not words:
            await self._status(respond)
        elif sub == "help":
            await respond(
                response_type="ephemeral", **ui.build_help(self._deps.settings, self._deps.t).kwargs()
            )
        elif sub in ("set", "target"):
            await self._write(sub, words[1:], user_id=user_id, respond=respond, client=client)
        elif len(words) == 1:
            await self._detail(words[0], command=command, respond=respond, client=client)
        else:
            message = ui.build_help(self._deps.settings, self._deps.t, not_understood=" ".join(words))
            await respond(response_type="ephemeral", **message.kwargs())

    async def _status(self, respond: AsyncRespond) -> None:
        settings, now = self._deps.settings, self._deps.clock.now()
        month = month_of(now.astimezone(settings.tz).date())
        async with unit_of_work(self._deps.sessions) as session:
            values = await service.kpi_months(session, settings=settings, months=[month.previous(), month])
        elapsed = elapsed_share(month, now, settings.tz)
        statuses = [
            service.assess(k, values[k.key][1], values[k.key][0], elapsed=elapsed) for k in settings.kpis
        ]
        message = ui.build_status(
            statuses,
            month=month,
            today=now.astimezone(settings.tz).date(),
            elapsed=elapsed,
            cmd=settings.slack.kpi_command,
            t=self._deps.t,
        )
        await respond(response_type="ephemeral", **message.kwargs())

    async def _detail(
        self, key: str, *, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        settings, t, now = self._deps.settings, self._deps.t, self._deps.clock.now()
        kpi = service.require_kpi(settings, escape(key))
        periods = months_back(month_of(now.astimezone(settings.tz).date()), HISTORY_MONTHS)
        async with unit_of_work(self._deps.sessions) as session:
            values = (await service.kpi_months(session, settings=settings, months=periods))[kpi.key]
        status = service.assess(
            kpi, values[-1], values[-2], elapsed=elapsed_share(periods[-1], now, settings.tz)
        )
        await respond(
            response_type="ephemeral", **ui.build_detail(kpi, values, periods, status, t=t).kwargs()
        )
        name = kpi.name.get(t.locale)
        # Drawing takes a few hundred ms of CPU: keep it off the event loop.
        png = await asyncio.to_thread(
            render_trend_chart,
            [ui.chart_series(kpi, values, t=t)],
            title=t("kpi.detail.chart_title", name=name),
            locale=t.locale,
            target_label=t("kpi.detail.target_label"),
        )
        upload = {
            "file": png,
            "filename": f"{kpi.key}-{periods[-1].label}.png",
            "title": t("kpi.detail.chart_title", name=name),
            "initial_comment": t("kpi.detail.chart_comment", name=name, user=command["user_id"]),
            "request_file_info": False,
        }
        channel = str(command.get("channel_id") or "")
        if channel in settings.kpi.chart_channels:  # a channel the config names for KPIs: for everyone
            try:
                await client.files_upload_v2(channel=channel, **upload)
                return
            except SlackApiError as exc:
                error = str(exc.response.get("error"))
                if error not in _NOT_IN_CHANNEL:
                    log.warning("chart upload failed: %s", error)
                    await respond(response_type="ephemeral", text=t("kpi.detail.chart_failed", error=error))
                    return
            note = "kpi.detail.chart_in_dm"  # the bot is not in it: the asker still gets the chart
        else:
            # Anywhere else the answer is private, and so is the chart: never into a channel the
            # asker merely typed in (a channel of outsiders, a DM with someone else).
            note = "kpi.detail.chart_private"
        dm = await client.conversations_open(users=command["user_id"])
        dm_id = dm["channel"]["id"]
        await client.files_upload_v2(channel=dm_id, **upload)
        if dm_id != channel:  # asked in the DM with the bot: the chart is right there
            await respond(response_type="ephemeral", text=t(note))

    async def _write(
        self, sub: str, args: list[str], *, user_id: str, respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        settings, now, t = self._deps.settings, self._deps.clock.now(), self._deps.t
        if len(args) not in (2, 3):
            example = settings.kpis[0].key if settings.kpis else "recruiting_entries"
            raise BotError("kpi.errors.usage", cmd=settings.slack.kpi_command, sub=sub, example=example)
        await self._authorize(sub, user_id=user_id, client=client)
        kpi = service.require_kpi(settings, escape(args[0]))
        if sub == "set" and kpi.aggregate == "derived":
            raise BotError("kpi.errors.derived", name=kpi.name.get(t.locale))
        value = service.parse_value(kpi, escape(args[1]))
        month = service.parse_month(escape(args[2]) if len(args) == 3 else None, now=now, tz=settings.tz)
        async with unit_of_work(self._deps.sessions) as session:
            before = (await service.kpi_months(session, settings=settings, months=[month]))[kpi.key][0]
            if sub == "set":
                await service.record_value(
                    session,
                    kpi=kpi.key,
                    month=month.label,
                    day=None,
                    value=value,
                    source="slack",
                    user_id=user_id,
                    now=now,
                )
                message = ui.build_recorded(kpi, month=month, value=value, previous=before.value, t=t)
            else:
                await service.set_target(
                    session, kpi=kpi.key, month=month.label, value=value, user_id=user_id, now=now
                )
                message = ui.build_target_set(kpi, month=month, value=value, previous=before.target, t=t)
        await respond(response_type="ephemeral", **message.kwargs())
        self._deps.home.refresh()  # everyone's Home shows this month's KPIs

    async def _authorize(self, sub: str, *, user_id: str, client: AsyncWebClient) -> None:
        settings = self._deps.settings
        if settings.is_admin(user_id):
            return
        if sub == "target":
            raise NotAllowed("kpi.errors.target_admins")
        setters = settings.kpi.setters
        if setters == "everyone":
            return
        if setters == "managers" and await self._deps.directory.is_manager(client, user_id):
            return
        raise NotAllowed(f"kpi.errors.setters_{setters}")


def register(app: Router, deps: Deps) -> None:
    listeners = KpiListeners(deps)
    app.command(deps.settings.slack.kpi_command)(deps.listener(listeners.handle_kpi_command))
