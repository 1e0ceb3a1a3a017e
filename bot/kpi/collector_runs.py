"""Collector runs: each platform run recorded for the App Home's admin view (I/O through a passed-in
AsyncSession; no Slack)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kpi.kinds import RunStatus
from bot.kpi.models import CollectorRun


async def start_collector_run(session: AsyncSession, *, platform: str, now: datetime) -> int:
    run = CollectorRun(platform=platform, started_at=now, status=RunStatus.RUNNING.value, posts_updated=0)
    session.add(run)
    await session.flush()
    return run.id


async def finish_collector_run(
    session: AsyncSession,
    *,
    run_id: int,
    status: RunStatus,
    posts_updated: int,
    error: str | None,
    now: datetime,
    posts_seen: int = 0,
    posts_new: int = 0,
) -> None:
    await session.execute(
        update(CollectorRun)
        .where(CollectorRun.id == run_id)
        .values(
            status=status.value,
            posts_updated=posts_updated,
            posts_seen=posts_seen,
            posts_new=posts_new,
            error=error,
            finished_at=now,
        )
    )


async def latest_collector_runs(session: AsyncSession) -> list[CollectorRun]:
    """The newest run of each platform (for the App Home)."""
    newest = select(func.max(CollectorRun.id).label("id")).group_by(CollectorRun.platform).subquery()
    rows = await session.scalars(
        select(CollectorRun).join(newest, CollectorRun.id == newest.c.id).order_by(CollectorRun.platform)
    )
    return list(rows.all())
