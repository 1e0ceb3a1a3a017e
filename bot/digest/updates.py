"""Late data corrects what was posted: re-render a posted digest and edit it in place (``chat.update``),
marked "updated on …", its chart and CSV replaced in the thread; once per request, one update of a
digest at a time across replicas (I/O: store and Slack).

Who asks: ``sns-bot digest … --post --update`` and the Update button on an admin's digest preview.
A request is claimed once (``processed_key`` ``digest:update:<request>``): a retried click or a
second replica receiving it does nothing. The posted row (``digest_run``) is then held with an
update lease (``update_by``/``update_lease_until``, a conditional UPDATE), so two different requests
for the same digest never interleave their edits. A channel where the digest was never posted is
reported as such; the command line posts it through the usual exactly-once path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from bot.db import unit_of_work
from bot.digest.claims import owner_id
from bot.digest.models import DigestRun, RunStatus
from bot.digest.posting import SLACK_ERRORS, error_text
from bot.digest.render import Rendered, Upload, render
from bot.digest.schedule import channels_for
from bot.i18n import Translator
from bot.keys import claim_key
from bot.periods import Period, PeriodKind
from bot.slack.blocks import Message, context
from bot.slack.identity import own_identity

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)


class UpdateOutcome(StrEnum):
    """What an update request did in one channel (the CLI prints ``digest_updates.outcome.<value>``)."""

    UPDATED = "updated"
    #: Nothing posted there yet for the period (nothing to edit).
    NOT_POSTED = "not_posted"
    #: Another update of this digest is running (another admin, another replica).
    BUSY = "busy"
    #: This request was handled already (a retried click, a second replica).
    DONE_BEFORE = "done_before"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ChannelUpdate:
    channel: str
    outcome: UpdateOutcome
    message_ts: str | None = None
    error: str | None = None


def update_key(request: str) -> str:
    """Exactly-once key of one update request."""
    return f"digest:update:{request}"[:200]


def updated_note(at: datetime, *, deps: Deps) -> str:
    """ "Updated on <date>" in the configured language and zone."""
    day = at.astimezone(deps.settings.tz).date()
    t: Translator = deps.t
    return t(
        "digest_updates.marker", date=t("digest_updates.date", year=day.year, month=day.month, day=day.day)
    )


def _marked(message: Message, note: str) -> Message:
    """The digest message with its "updated on …" line last (text fallback too)."""
    blocks = [*message.blocks_json(), context(note).to_dict()]
    return Message(text=f"{message.text}\n{note}", blocks=blocks, metadata=message.metadata)


async def update_digest(
    deps: Deps, *, kind: PeriodKind, period: Period, request: str, owner: str | None = None
) -> list[ChannelUpdate]:
    """Edit the posted ``kind`` digest of ``period`` in every configured channel with today's data.

    Args:
        request: what identifies this request (a click's message and action time, a CLI run's id):
            the same request is carried out once.
        owner: who holds the update lease (default: :func:`~bot.digest.claims.owner_id`).
    """
    owner = owner or owner_id()
    channels = channels_for(deps.settings, kind)
    now = deps.clock.now()
    async with unit_of_work(deps.sessions) as session:
        fresh = await claim_key(session, key=update_key(request), now=now)
    if not fresh:
        log.info("digest update %s was handled before; nothing to do", request)
        return [ChannelUpdate(channel, UpdateOutcome.DONE_BEFORE) for channel in channels]
    lease = timedelta(seconds=deps.settings.digest.lease_seconds)
    rendered: list[Rendered] = []
    results: list[ChannelUpdate] = []
    for channel in channels:
        now = deps.clock.now()
        async with unit_of_work(deps.sessions) as session:
            row = (
                await session.execute(
                    select(DigestRun.id, DigestRun.status, DigestRun.message_ts).where(
                        DigestRun.kind == kind,
                        DigestRun.period == period.label,
                        DigestRun.channel_id == channel,
                    )
                )
            ).one_or_none()
            if row is None or row.status != RunStatus.POSTED or not row.message_ts:
                results.append(ChannelUpdate(channel, UpdateOutcome.NOT_POSTED))
                continue
            taken = await session.execute(
                update(DigestRun)
                .where(
                    DigestRun.id == row.id,
                    DigestRun.status == RunStatus.POSTED,
                    or_(DigestRun.update_lease_until.is_(None), DigestRun.update_lease_until < now),
                )
                .values(update_by=owner, update_lease_until=now + lease)
            )
        if getattr(taken, "rowcount", 0) != 1:
            results.append(ChannelUpdate(channel, UpdateOutcome.BUSY, row.message_ts))
            continue
        ts = str(row.message_ts)
        error: str | None = None
        try:
            if not rendered:
                rendered.append(await render(deps, kind=kind, period=period))
            doc = rendered[0]
            message = _marked(doc.message(deps.settings, channel), updated_note(now, deps=deps))
            await deps.slack.chat_update(channel=channel, ts=ts, **message.kwargs())
            if doc.uploads:
                await replace_attachments(deps, channel=channel, ts=ts, uploads=doc.uploads)
        except SLACK_ERRORS as exc:
            error = error_text(exc)
            log.warning("digest %s %s → %s: update failed: %s", kind, period.label, channel, error)
        async with unit_of_work(deps.sessions) as session:
            values: dict[str, object] = {"update_by": None, "update_lease_until": None}
            if error is None:
                values["updated_at"] = now
            await session.execute(
                update(DigestRun).where(DigestRun.id == row.id, DigestRun.update_by == owner).values(values)
            )
        outcome = UpdateOutcome.FAILED if error else UpdateOutcome.UPDATED
        results.append(ChannelUpdate(channel, outcome, ts, error))
    if any(r.outcome is UpdateOutcome.UPDATED for r in results):
        deps.home.refresh()
    return results


async def replace_attachments(deps: Deps, *, channel: str, ts: str, uploads: tuple[Upload, ...]) -> None:
    """Share the new chart and CSV in the digest's thread, then delete the files of the same names
    this bot shared there before (new first: the thread is never left without them)."""
    me = await own_identity(deps.slack)
    replies = await deps.slack.conversations_replies(channel=channel, ts=ts, limit=200)
    names = {u.filename for u in uploads}
    old = [
        str(f["id"])
        for message in replies.get("messages") or []
        if message.get("ts") != ts and me.shared(message)
        for f in message.get("files") or []
        if isinstance(f, dict) and f.get("name") in names and f.get("id")
    ]
    await deps.slack.files_upload_v2(
        channel=channel,
        thread_ts=ts,
        file_uploads=[{"content": u.content, "filename": u.filename, "title": u.title} for u in uploads],
    )
    for file_id in old:
        try:
            await deps.slack.files_delete(file=file_id)
        except SLACK_ERRORS as exc:  # the new files are there; an old copy left behind is harmless
            log.warning("old digest file %s not deleted: %s", file_id, error_text(exc))
