"""Import from Slack: an export file dropped into the bot's DM is downloaded, previewed (a dry run),
and imported when its uploader clicks Import (Slack I/O: events, buttons, files.info, the download).

One upload brings two events (``message`` with ``subtype: file_share`` and ``file_shared``), each
retried and possibly delivered to another replica: the ``kpi_upload`` row claimed on the file id
gives one preview (:mod:`bot.kpi.upload_store`). Nothing is written before Import; Import and Cancel
act once (a conditional status change), and the import imports exactly the previewed bytes (their
SHA-256). Who may import is the setter rule of ``/sns-kpi set`` (:mod:`bot.kpi.rules`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.db import unit_of_work
from bot.errors import BotError
from bot.i18n import Translator
from bot.kpi import rules, upload_ui
from bot.kpi.ids import ActionId
from bot.kpi.import_report import ImportProgress
from bot.kpi.import_run import ImportReport, Progress, open_export, run_import
from bot.kpi.kinds import UploadStatus, ValueSource
from bot.kpi.rules import KpiWrite
from bot.kpi.upload_store import advance, claim_upload, get_upload, reopen_stale, take_over_stale
from bot.slack.errors import tell_user
from bot.slack.files import DownloadRefused, download

if TYPE_CHECKING:
    from bot.runtime.deps import Deps
    from bot.slack.router import Router

log = logging.getLogger(__name__)

#: Seconds between two progress updates of the message while importing (Slack: chat.update is
#: Tier 3, about 50 a minute, and about one a second per channel).
PROGRESS_EVERY = 3.0
#: Rows per chunk of an import from Slack (progress is reported after each chunk).
CHUNK_ROWS = 20_000


class UploadFailed(Exception):
    """The file cannot be previewed or imported; ``text`` says why, for its uploader."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _is_dm(channel: object) -> bool:
    return isinstance(channel, str) and channel.startswith("D")


class UploadListeners:
    def __init__(self, deps: Deps, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._deps = deps
        self._monotonic = monotonic

    # -- the two events of one upload ----------------------------------------------------------

    async def handle_message_event(self, event: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
        """A message in the bot's DM carrying files (``subtype: file_share``, or none for snippets)."""
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("hidden"):
            return
        if event.get("subtype") not in (None, "file_share") or not _is_dm(event.get("channel")):
            return
        user = str(event.get("user") or "")
        if not user or user == _bot_user(context):
            return
        for item in event.get("files") or []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                await self._offer(item["id"], user_id=user, channel=str(event["channel"]), client=client)

    async def handle_file_shared_event(
        self, event: dict[str, Any], client: AsyncWebClient, context: Any
    ) -> None:
        """``file_shared``: only the file id; the bot answers only files shared in its DM."""
        channel, user = event.get("channel_id"), str(event.get("user_id") or "")
        file_id = event.get("file_id") or (event.get("file") or {}).get("id")
        if not _is_dm(channel) or not user or user == _bot_user(context) or not isinstance(file_id, str):
            return
        await self._offer(file_id, user_id=user, channel=str(channel), client=client)

    async def _offer(self, file_id: str, *, user_id: str, channel: str, client: AsyncWebClient) -> None:
        """Claim the file (one preview per upload), check who sent it, download it and preview."""
        deps = self._deps
        await self._reopen_stale(user_id, client)
        async with unit_of_work(deps.sessions) as session:
            upload_id = await claim_upload(
                session, file_id=file_id, user_id=user_id, channel_id=channel, now=deps.clock.now()
            )
        if upload_id is None:
            log.info("file %s: already answered (its other event, a retry or another replica)", file_id)
            return
        t = await deps.locales.for_user(user_id)  # all of it happens in the uploader's DM
        refusal = await self._refusal(user_id, client, t=t)
        if refusal is not None:
            await client.chat_postMessage(
                channel=channel, **upload_ui.build_refused(t=t, reason=refusal).kwargs()
            )
            await self._advance(upload_id, UploadStatus.REFUSED)
            return
        name, ts = file_id, None
        try:
            info = await self._info(client, file_id, t=t)
            name = str(info.get("name") or info.get("title") or file_id)
            ts = str(
                (
                    await client.chat_postMessage(
                        channel=channel, **upload_ui.build_reading(name, t=t).kwargs()
                    )
                )["ts"]
            )
            await self._advance(upload_id, UploadStatus.RECEIVED, message_ts=ts, filename=name[:300])
            data = await self._download(info, client, t=t)
            report = await self._run(data, name=name, dry_run=True, user_id=user_id, t=t)
        except UploadFailed as failed:
            await self._fail(upload_id, client, channel=channel, ts=ts, name=name, error=failed.text, t=t)
            return
        ok = report.ok and report.writes
        message = upload_ui.build_preview(
            report, upload_id=upload_id, filename=name, accounts=_account_names(deps), t=t
        )
        await self._advance(
            upload_id,
            UploadStatus.PREVIEWED if ok else UploadStatus.FAILED,
            sha256=hashlib.sha256(data).hexdigest(),
        )
        await client.chat_update(channel=channel, ts=ts, **message.kwargs())

    # -- Import / Cancel -----------------------------------------------------------------------

    async def handle_import_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        await ack()
        deps = self._deps
        t = await deps.locales.for_user(_clicker(body))
        row = await self._row_of_click(body, client, respond, t=t)
        if row is None:
            return
        upload_id, user_id = row.id, row.user_id
        refusal = await self._refusal(user_id, client, t=t)
        if refusal is not None:
            await tell_user(client, body, t("uploads.refused", reason=refusal), respond)
            return
        restarted = False
        if not await self._advance(upload_id, UploadStatus.IMPORTING, only_from=UploadStatus.PREVIEWED):
            # An import whose process died keeps "importing"; past its lease this click restarts it.
            async with unit_of_work(deps.sessions) as session:
                restarted = await take_over_stale(session, upload_id, now=deps.clock.now())
            if not restarted:
                await self._tell_status(upload_id, body, client, respond, t=t)
                return
            log.info("upload %s: the import that died unfinished is started again", upload_id)
        channel, ts, name = row.channel_id, str(row.message_ts), row.filename or row.file_id
        await client.chat_update(
            channel=channel,
            ts=ts,
            **upload_ui.build_progress(name, tick=None, t=t, restarted=restarted).kwargs(),
        )
        last = [self._monotonic()]

        async def progress(tick: ImportProgress) -> None:
            if self._monotonic() - last[0] >= PROGRESS_EVERY:
                last[0] = self._monotonic()
                message = upload_ui.build_progress(name, tick=tick, t=t, restarted=restarted)
                try:
                    await client.chat_update(channel=channel, ts=ts, **message.kwargs())
                except SlackApiError as exc:  # progress is a courtesy; the import goes on
                    log.warning("progress update failed: %s", exc.response.get("error"))

        try:
            info = await self._info(client, row.file_id, t=t)
            data = await self._download(info, client, t=t)
            if hashlib.sha256(data).hexdigest() != row.sha256:
                raise UploadFailed(t("uploads.errors.changed"))
            report = await self._run(data, name=name, dry_run=False, user_id=user_id, progress=progress, t=t)
        except UploadFailed as failed:
            await self._fail(upload_id, client, channel=channel, ts=ts, name=name, error=failed.text, t=t)
            return
        await self._advance(upload_id, UploadStatus.IMPORTED if report.ok else UploadStatus.FAILED)
        done = upload_ui.build_done(report, filename=name, user_id=user_id, t=t)
        await client.chat_update(channel=channel, ts=ts, **done.kwargs())
        if report.ok and report.writes:
            deps.home.refresh()  # every Home shows this month's KPIs

    async def handle_cancel_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        await ack()
        t = await self._deps.locales.for_user(_clicker(body))
        row = await self._row_of_click(body, client, respond, t=t)
        if row is None:
            return
        if not await self._advance(row.id, UploadStatus.CANCELLED, only_from=UploadStatus.PREVIEWED):
            await self._tell_status(row.id, body, client, respond, t=t)
            return
        message = upload_ui.build_cancelled(row.filename or row.file_id, t=t)
        await client.chat_update(channel=row.channel_id, ts=str(row.message_ts), **message.kwargs())

    # -- helpers -------------------------------------------------------------------------------

    async def _reopen_stale(self, user_id: str, client: AsyncWebClient) -> None:
        """The uploader's imports that died with their process get Import back, in their message."""
        async with unit_of_work(self._deps.sessions) as session:
            reopened = await reopen_stale(session, user_id=user_id, now=self._deps.clock.now())
        if not reopened:
            return
        t = await self._deps.locales.for_user(user_id)
        for row in reopened:
            if row.message_ts is None:
                continue
            message = upload_ui.build_interrupted(row.filename or row.file_id, upload_id=row.id, t=t)
            try:
                await client.chat_update(channel=row.channel_id, ts=row.message_ts, **message.kwargs())
            except SlackApiError as exc:  # the row is open again; its old message may be gone
                log.warning("upload %s: message not updated: %s", row.id, exc.response.get("error"))

    async def _row_of_click(
        self, body: dict[str, Any], client: AsyncWebClient, respond: Any, *, t: Translator
    ) -> Any:
        """The upload a button belongs to, when the one who clicked is its uploader."""
        try:
            upload_id = int(str((body.get("actions") or [{}])[0].get("value")))
        except ValueError:
            upload_id = 0
        async with unit_of_work(self._deps.sessions) as session:
            row = await get_upload(session, upload_id)
        clicker = _clicker(body)
        if row is None or row.user_id != clicker or row.message_ts is None:
            await tell_user(client, body, t("uploads.not_yours"), respond)
            return None
        return row

    async def _tell_status(
        self, upload_id: int, body: dict[str, Any], client: AsyncWebClient, respond: Any, *, t: Translator
    ) -> None:
        async with unit_of_work(self._deps.sessions) as session:
            row = await get_upload(session, upload_id)
        status = row.status if row is not None else UploadStatus.FAILED
        await tell_user(client, body, t(f"uploads.already.{status}"), respond)

    async def _refusal(self, user_id: str, client: AsyncWebClient, *, t: Translator) -> str | None:
        """Why ``user_id`` may not import (the setter rule's words), or ``None``."""
        settings = self._deps.settings
        is_manager = (
            await self._deps.directory.is_manager(client, user_id)
            if rules.asks_directory(settings, user_id=user_id, write=KpiWrite.SET)
            else False
        )
        try:
            rules.check_writer(settings, user_id=user_id, write=KpiWrite.SET, is_manager=is_manager)
        except BotError as error:
            return error.render(t)
        return None

    async def _advance(
        self, upload_id: int, to: UploadStatus, *, only_from: UploadStatus | None = None, **values: Any
    ) -> bool:
        async with unit_of_work(self._deps.sessions) as session:
            return await advance(
                session, upload_id, to=to, now=self._deps.clock.now(), only_from=only_from, **values
            )

    async def _fail(
        self,
        upload_id: int,
        client: AsyncWebClient,
        *,
        channel: str,
        ts: str | None,
        name: str,
        error: str,
        t: Translator,
    ) -> None:
        await self._advance(upload_id, UploadStatus.FAILED)
        message = upload_ui.build_failed(name, error=error, t=t)
        if ts is None:
            await client.chat_postMessage(channel=channel, **message.kwargs())
        else:
            await client.chat_update(channel=channel, ts=ts, **message.kwargs())

    async def _info(self, client: AsyncWebClient, file_id: str, *, t: Translator) -> dict[str, Any]:
        """``files.info``: name, size and download URL (``file_shared`` carries only the id)."""
        try:
            info = (await client.files_info(file=file_id)).get("file")
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            log.warning("files.info %s failed: %s", file_id, error or exc.response.status_code)
            raise UploadFailed(t("uploads.errors.file_info", error=str(error or "?"))) from exc
        return info if isinstance(info, dict) else {}

    async def _download(self, info: dict[str, Any], client: AsyncWebClient, *, t: Translator) -> bytes:
        """The file's bytes with the bot token, from a Slack host only, within the size limit."""
        deps = self._deps
        limit = deps.settings.kpi.upload_max_bytes
        size = info.get("size")
        mb = f"{deps.settings.kpi.upload_max_mb:g}"
        if isinstance(size, int) and size > limit:
            raise UploadFailed(t("uploads.errors.too_large", size=f"{size / 2**20:.1f}", limit=mb))
        url = info.get("url_private_download") or info.get("url_private")
        token = client.token or deps.slack.token
        if not isinstance(url, str) or not token:
            raise UploadFailed(t("uploads.errors.no_url"))
        try:
            return await download(url, token=token, api_url=deps.settings.slack_api_url, max_bytes=limit)
        except DownloadRefused as refused:
            if refused.reason == "too_large":
                raise UploadFailed(t("uploads.errors.too_large", size="?", limit=mb)) from refused
            log.warning("download of %s refused: %s", info.get("id"), refused)
            raise UploadFailed(t(f"uploads.errors.download_{refused.reason}")) from refused
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("download of %s failed: %r", info.get("id"), exc)
            raise UploadFailed(t("uploads.errors.download_http")) from exc

    async def _run(
        self,
        data: bytes,
        *,
        name: str,
        dry_run: bool,
        user_id: str,
        t: Translator,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import (or dry-run) ``data`` from a private temporary file."""
        suffix = Path(name).suffix[:10] if Path(name).suffix.isascii() else ""
        with tempfile.TemporaryDirectory(prefix="sns-upload-") as folder:
            path = Path(folder) / f"upload{suffix}"
            path.write_bytes(data)
            try:
                opened = await asyncio.to_thread(
                    open_export, self._deps, path, name=name, chunk_rows=CHUNK_ROWS
                )
                report = await run_import(
                    self._deps,
                    opened,
                    dry_run=dry_run,
                    source=ValueSource.IMPORT_SLACK,
                    user_id=user_id,
                    progress=progress,
                )
            except BotError as error:
                raise UploadFailed(_in_slack(error).render(t)) from error
        if report.error is not None:  # the whole file refused (not its rows): say why, nothing else
            raise UploadFailed(_in_slack(report.error).render(t))
        return report


#: Refusals whose advice (``--period``) a file dropped into Slack cannot follow: the words for Slack.
_SLACK_WORDS = {
    "imports.errors.search_console_part": "uploads.errors.search_console_part",
    "imports.errors.search_console_options_missing": "uploads.errors.search_console_period",
}


def _in_slack(error: BotError) -> BotError:
    key = _SLACK_WORDS.get(error.key)
    return BotError(key, **error.params) if key is not None else error


def _clicker(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def _bot_user(context: Any) -> str | None:
    try:
        return context.get("bot_user_id") if context is not None else None
    except AttributeError:
        return None


def _account_names(deps: Deps) -> dict[str, str]:
    return {
        a.key: f"{a.name} ({a.handle})" if a.handle and a.handle != a.name else a.name
        for a in deps.settings.accounts
    }


def register(app: Router, deps: Deps) -> None:
    listeners = UploadListeners(deps)
    track = deps.listener
    app.event("message")(track(listeners.handle_message_event))
    app.event("file_shared")(track(listeners.handle_file_shared_event))
    app.action(ActionId.UPLOAD_IMPORT)(track(listeners.handle_import_action))
    app.action(ActionId.UPLOAD_CANCEL)(track(listeners.handle_cancel_action))
