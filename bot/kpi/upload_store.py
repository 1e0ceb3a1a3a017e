"""The ``kpi_upload`` rows of files dropped into the bot's DM: claim a file once, move its status
forward only by conditional updates (I/O: the store through a passed-in AsyncSession; no Slack).

Slack sends two events for one upload (``message``/``file_share`` and ``file_shared``), retries each,
and any replica may receive any of them: the first ``INSERT … ON CONFLICT DO NOTHING`` on the file id
wins and previews, the others do nothing. Import and Cancel move ``previewed`` on with an
``UPDATE … WHERE status = 'previewed'``, so of two clicks (or replicas) one acts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import dialect_insert
from bot.kpi.kinds import UploadStatus
from bot.kpi.models import KpiUpload


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
