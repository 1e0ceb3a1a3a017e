"""/sns-kpi and the "record a KPI value" modal (Slack I/O).

``/sns-kpi`` is acknowledged at once (no DB), then answered ephemerally; a chart goes to the asker's
direct message with the bot, or to the channel when it is one of ``[kpi] chart_channels``. The App
Home's "record a KPI value" button carries :attr:`bot.kpi.ids.ActionId.RECORD`, so the modal it opens
and its submission are handled here, with the same rules as ``/sns-kpi set`` (:mod:`bot.kpi.rules`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import KpiSettings
from bot.db import unit_of_work
from bot.errors import BotError
from bot.i18n import Translator
from bot.keys import claim_key
from bot.kpi import fiscal_ui, glossary, glossary_ui, rules, ui
from bot.kpi.charts import render_trend_chart
from bot.kpi.ids import ActionId, BlockId, CallbackId, claim_record_key
from bot.kpi.kinds import ValueSource
from bot.kpi.queries import kpi_figures, kpi_months, last_recorded, this_month
from bot.kpi.rules import KpiWrite
from bot.kpi.status import KpiMonth, assess
from bot.kpi.values import record_entry, set_target
from bot.periods import Period, elapsed_share, month_of, months_back
from bot.slack.blocks import Message, escape
from bot.slack.locales import MODAL_WAIT

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
            await self._status(respond, user_id=user_id)
        elif sub == "help" and len(words) == 2:
            await self._glossary(words[1], user_id=user_id, respond=respond)
        elif sub == "help":
            t = await self._deps.locales.for_user(user_id)
            await respond(response_type="ephemeral", **ui.build_help(self._deps.settings, t).kwargs())
        elif sub in (KpiWrite.SET, KpiWrite.TARGET):
            await self._write(KpiWrite(sub), words[1:], user_id=user_id, respond=respond, client=client)
        elif len(words) == 1:
            await self._detail(words[0], command=command, respond=respond, client=client)
        else:
            t = await self._deps.locales.for_user(user_id)
            message = ui.build_help(self._deps.settings, t, not_understood=" ".join(words))
            await respond(response_type="ephemeral", **message.kwargs())

    async def _glossary(self, key: str, *, user_id: str, respond: AsyncRespond) -> None:
        """``/sns-kpi help KEY``: the KPI's glossary entry in the asker's language (an unknown key is
        refused as for ``KEY``)."""
        settings = self._deps.settings
        kpi = rules.require_kpi(settings, escape(key))
        t = await self._deps.locales.for_user(user_id)
        message = glossary_ui.build_help_entry(kpi, t, cmd=settings.slack.kpi_command)
        await respond(response_type="ephemeral", **message.kwargs())

    async def handle_glossary_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """ "What does this mean?": the clicked KPI's entry in a modal, for whoever clicked (in their
        language)."""
        await ack()
        settings = self._deps.settings
        t = await self._deps.locales.for_user(_user(body), wait=MODAL_WAIT)
        cmd = settings.slack.kpi_command
        key = str(action.get("value") or "")
        kpi = glossary.find(settings, key)
        view = (
            glossary_ui.build_modal(kpi, t, cmd=cmd)
            if kpi is not None
            else glossary_ui.build_unknown_modal(key, t, cmd=cmd)
        )
        if (body.get("view") or {}).get("type") == "modal":  # Slack: over an open modal, push
            await client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def _status(self, respond: AsyncRespond, *, user_id: str) -> None:
        settings, now = self._deps.settings, self._deps.clock.now()
        t = await self._deps.locales.for_user(user_id)
        async with unit_of_work(self._deps.sessions) as session:
            current = await this_month(session, settings=settings, now=now)
        message = ui.build_status(
            current.statuses,
            month=current.month,
            today=now.astimezone(settings.tz).date(),
            elapsed=current.elapsed,
            cmd=settings.slack.kpi_command,
            t=t,
        )
        await respond(response_type="ephemeral", **message.kwargs())

    async def _detail(
        self, key: str, *, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        settings = self._deps.settings
        t = await self._deps.locales.for_user(command["user_id"])
        kpi, values, periods, message = await self._detail_answer(key, t=t)
        await respond(response_type="ephemeral", **message.kwargs())
        channel = str(command.get("channel_id") or "")
        shared = channel in settings.kpi.chart_channels
        # The chart: in the channel's language when everyone there sees it, else in the asker's.
        ct = self._deps.t if shared else t
        name = kpi.name.get(ct.locale)
        # Drawing takes a few hundred ms of CPU: keep it off the event loop.
        png = await asyncio.to_thread(
            render_trend_chart,
            [ui.chart_series(kpi, values, t=ct)],
            title=ct("kpi.detail.chart_title", name=name),
            locale=ct.locale,
            target_label=ct("kpi.detail.target_label"),
        )

        async def upload(to: str, ut: Translator) -> None:
            await client.files_upload_v2(
                channel=to,
                file=png,
                filename=f"{kpi.key}-{periods[-1].label}.png",
                title=ut("kpi.detail.chart_title", name=name),
                initial_comment=ut("kpi.detail.chart_comment", name=name, user=command["user_id"]),
                request_file_info=False,
            )

        if shared:  # a channel the config names for KPIs: for everyone
            try:
                await upload(channel, ct)
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
        await upload(dm_id, ct)
        if dm_id != channel:  # asked in the DM with the bot: the chart is right there
            await respond(response_type="ephemeral", text=t(note))

    async def _detail_answer(
        self, key: str, *, t: Translator
    ) -> tuple[KpiSettings, list[KpiMonth], list[Period], Message]:
        """``/sns-kpi KEY``'s answer in ``t``: the KPI, its 12 months and the message (unknown key: BotError)."""
        settings, now = self._deps.settings, self._deps.clock.now()
        kpi = rules.require_kpi(settings, escape(key))
        periods = months_back(month_of(now.astimezone(settings.tz).date()), HISTORY_MONTHS)
        # The fiscal year's months too: its spans add up the targets of months still to come.
        fiscal_year = fiscal_ui.months_needed(now, settings.tz, settings.fiscal_year_start)
        wanted = sorted(set(periods) | set(fiscal_year))
        async with unit_of_work(self._deps.sessions) as session:
            found, rate_stats = await kpi_figures(session, settings=settings, months=wanted)
            recorded = await last_recorded(session, kpi=kpi.key, months=periods)
        by_label = {m.month: m for m in found[kpi.key]}
        values = [by_label[p.label] for p in periods]
        status = assess(kpi, values[-1], values[-2], elapsed=elapsed_share(periods[-1], now, settings.tz))
        spans = fiscal_ui.span_lines(
            kpi,
            found[kpi.key],
            stats=rate_stats.get(kpi.key),
            now=now,
            tz=settings.tz,
            fiscal_start=settings.fiscal_year_start,
        )
        detail = ui.build_detail(kpi, values, periods, status, t=t, recorded=recorded)
        return kpi, values, periods, fiscal_ui.with_fiscal(detail, spans, t)

    async def handle_open_detail_action(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """An "open /sns-kpi KEY" button on a bot post: the same answer as the command, shown only to
        the person who clicked (the chart stays with the command)."""
        await ack()
        key = str(((body.get("actions") or [{}])[0]).get("value") or "")
        t = await self._deps.locales.for_user(_user(body), wait=MODAL_WAIT)
        _kpi, _values, _periods, message = await self._detail_answer(key, t=t)
        await respond(response_type="ephemeral", replace_original=False, **message.kwargs())

    async def _write(
        self, write: KpiWrite, args: list[str], *, user_id: str, respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        """``/sns-kpi set|target KEY VALUE [YYYY-MM]``: who may, then what was typed, then the write."""
        deps, now = self._deps, self._deps.clock.now()
        t = await deps.locales.for_user(user_id)
        settings = deps.settings
        if len(args) not in (2, 3):
            example = settings.kpis[0].key if settings.kpis else "recruiting_entries"
            raise BotError("kpi.errors.usage", cmd=settings.slack.kpi_command, sub=write, example=example)
        # After the ack: the directory may ask Slack about the managers' user groups.
        is_manager = (
            await deps.directory.is_manager(client, user_id)
            if rules.asks_directory(settings, user_id=user_id, write=write)
            else False
        )
        rules.check_writer(settings, user_id=user_id, write=write, is_manager=is_manager)
        entry = rules.check_entry(
            settings,
            write=write,
            kpi_key=escape(args[0]),
            value_text=escape(args[1]),
            month_text=escape(args[2]) if len(args) == 3 else None,
            now=now,
        )
        kpi, month = entry.kpi, entry.month
        async with unit_of_work(deps.sessions) as session:
            before = (await kpi_months(session, settings=settings, months=[month]))[kpi.key][0]
            if write is KpiWrite.SET:
                await record_entry(
                    session, entry=entry, user_id=user_id, now=now, source=ValueSource.SLACK_COMMAND
                )
                message = ui.build_recorded(kpi, month=month, value=entry.value, previous=before.value, t=t)
            else:
                await set_target(
                    session, kpi=kpi.key, month=month.label, value=entry.value, user_id=user_id, now=now
                )
                message = ui.build_target_set(
                    kpi, month=month, value=entry.value, previous=before.target, t=t
                )
        await respond(response_type="ephemeral", **message.kwargs())
        deps.home.refresh()  # everyone's Home shows this month's KPIs

    # -- the "record a KPI value" modal (the App Home's button) ------------------------------

    async def handle_record_action(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        settings = self._deps.settings
        current = month_of(self._deps.clock.now().astimezone(settings.tz).date())
        t = await self._deps.locales.for_user(_user(body), wait=MODAL_WAIT)
        view = ui.build_record_modal(settings=settings, t=t, current=current)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def handle_record_submission(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        deps, user_id, now = self._deps, _user(body), self._deps.clock.now()
        settings = deps.settings
        kpi_key, value_text, month_text = ui.parse_record_modal(view)
        # Raises BotError with the input's block id: the error handler shows it inline.
        entry = rules.check_entry(
            settings,
            write=KpiWrite.SET,
            kpi_key=kpi_key,
            value_text=value_text,
            month_text=month_text,
            now=now,
        )
        try:  # from the directory's cache: no Slack call before the ack
            is_manager = (
                deps.directory.is_manager_known(user_id)
                if rules.asks_directory(settings, user_id=user_id, write=KpiWrite.SET)
                else False
            )
            rules.check_writer(settings, user_id=user_id, write=KpiWrite.SET, is_manager=is_manager)
        except BotError as error:
            # Before the ack: the asker's language as far as this process knows it (no Slack call).
            await ack(
                response_action="errors", errors={BlockId.KPI: error.render(deps.locales.known(user_id))}
            )
            if error.key == "kpi.errors.role_unknown":  # ready for the next try
                deps.directory.refresh(client, deps.directory.configured_groups())
            return
        await ack()
        # One modal, one value: a repeated delivery of the same submission (a double click on
        # Submit, Slack's retry) would otherwise add a second history row.
        async with unit_of_work(deps.sessions) as session:
            if not await claim_key(session, key=claim_record_key(view.get("id"), view.get("hash")), now=now):
                log.info("KPI modal %s submitted twice; the second one is ignored", view.get("id"))
                return
            await record_entry(session, entry=entry, user_id=user_id, now=now, source=ValueSource.HOME)
        # A KPI value is on everybody's Home.
        deps.home.refresh()
        deps.home.show(user_id)


def _user(body: dict[str, Any]) -> str:
    user = body.get("user") or {}
    return str(user.get("id") or body.get("user_id") or "")


def register(app: Router, deps: Deps) -> None:
    listeners = KpiListeners(deps)
    track = deps.listener
    app.command(deps.settings.slack.kpi_command)(track(listeners.handle_kpi_command))
    app.action(ActionId.RECORD.value)(track(listeners.handle_record_action, opens_modal=True))
    app.action(ActionId.GLOSSARY.value)(track(listeners.handle_glossary_action, opens_modal=True))
    app.action(ActionId.OPEN_DETAIL.value)(track(listeners.handle_open_detail_action))
    app.view(CallbackId.RECORD.value)(track(listeners.handle_record_submission))
