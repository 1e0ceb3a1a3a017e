"""The ``kpi_upload`` rows of files dropped into the bot's DM: claim a file once, move its status
forward only by conditional updates (I/O: the store through a passed-in AsyncSession; no Slack).

Slack sends two events for one upload (``message``/``file_share`` and ``file_shared``), retries each,
and any replica may receive any of them: the first ``INSERT … ON CONFLICT DO NOTHING`` on the file id
wins and previews, the others do nothing. Import and Cancel move ``previewed`` on with an
``UPDATE … WHERE status = 'previewed'``, so of two clicks (or replicas) one acts.

An import holds its ``importing`` status for :data:`IMPORT_LEASE` from its start. A process that
died mid-import (a deploy, a crash) leaves the row ``importing``; once the lease has run out the row
can be taken over (an Import click) or reopened for Import (the uploader's next drop). The import is
one transaction and importing again what is already stored changes nothing, so either is safe.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import dialect_insert
from bot.kpi.kinds import UploadStatus
from bot.kpi.models import KpiUpload

#: How long an ``importing`` row belongs to the import that set it: far longer than the largest
#: upload allowed (``[kpi] upload_max_mb``) takes to import, so only a dead import's row expires.
IMPORT_LEASE = timedelta(minutes=15)


async def claim_upload(
    session: AsyncSession, *, file_id: str, user_id: str, channel_id: str, now: datetime
) -> int | None:
    """The new row's id when this call is the first to see ``file_id``, else ``None``."""
    stmt = (
        dialect_insert(session)(KpiUpload)
        .values(
            file_id=file_id[:40],
            user_id=user_id,
            channel_id=channel_id,
            status=UploadStatus.RECEIVED,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["file_id"])
        .returning(KpiUpload.id)
    )
    inserted: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return inserted


async def get_upload(session: AsyncSession, upload_id: int) -> KpiUpload | None:
    return (await session.execute(select(KpiUpload).where(KpiUpload.id == upload_id))).scalar_one_or_none()


async def advance(
    session: AsyncSession,
    upload_id: int,
    *,
    to: UploadStatus,
    now: datetime,
    only_from: UploadStatus | None = None,
    **values: Any,
) -> bool:
    """Set the row's status (and ``values``); with ``only_from``, only if it is in that status now.

    Returns:
        Whether the row changed (False: another click, event or replica got there first).
    """
    stmt = update(KpiUpload).where(KpiUpload.id == upload_id)
    if only_from is not None:
        stmt = stmt.where(KpiUpload.status == only_from)
    result = await session.execute(stmt.values(status=to, updated_at=now, **values))
    return bool(getattr(result, "rowcount", 0) == 1)


async def take_over_stale(
    session: AsyncSession, upload_id: int, *, now: datetime, lease: timedelta = IMPORT_LEASE
) -> bool:
    """Restart the lease of an import whose process died (``importing`` for longer than ``lease``).

    Returns:
        Whether this call took it over (False: not importing, still within its lease, or another
        click or replica took it first).
    """
    stmt = (
        update(KpiUpload)
        .where(
            KpiUpload.id == upload_id,
            KpiUpload.status == UploadStatus.IMPORTING,
            KpiUpload.updated_at < now - lease,
        )
        .values(updated_at=now)
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0) == 1)


async def reopen_stale(
    session: AsyncSession, *, user_id: str, now: datetime, lease: timedelta = IMPORT_LEASE
) -> list[KpiUpload]:
    """Put ``user_id``'s imports that died mid-way (``importing`` past ``lease``) back to
    ``previewed``, so Import works again; returns the rows this call reopened."""
    cutoff = now - lease
    stale = (
        await session.scalars(
            select(KpiUpload).where(
                KpiUpload.user_id == user_id,
                KpiUpload.status == UploadStatus.IMPORTING,
                KpiUpload.updated_at < cutoff,
            )
        )
    ).all()
    reopened: list[KpiUpload] = []
    for row in stale:
        stmt = (
            update(KpiUpload)
            .where(
                KpiUpload.id == row.id,
                KpiUpload.status == UploadStatus.IMPORTING,
                KpiUpload.updated_at < cutoff,
            )
            .values(status=UploadStatus.PREVIEWED, updated_at=now)
        )
        if getattr(await session.execute(stmt), "rowcount", 0) == 1:
            reopened.append(row)
    return reopened
