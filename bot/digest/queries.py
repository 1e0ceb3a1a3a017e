"""Read-only questions about digest runs (I/O: a passed-in AsyncSession, reads only).

The retry sweep asks which claims are due and which channels have a row; the App Home asks which
digests were posted last and how the newest period of a kind went. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest.models import DigestRun, RunStatus
from bot.periods import PeriodKind


@dataclass(frozen=True, slots=True)
class PostedDigest:
    """A digest post in a channel."""

    kind: str
    period: str
    channel_id: str
    message_ts: str


async def due_runs(session: AsyncSession, *, now: datetime) -> list[tuple[str, str, str]]:
    """(kind, period, channel) of every unfinished claim another attempt may take over now: its
    lease ran out (the poster died, or released it after a failed attempt) and its backoff is over."""
    rows = await session.execute(
        select(DigestRun.kind, DigestRun.period, DigestRun.channel_id)
        .where(
            DigestRun.status == RunStatus.CLAIMED,
            or_(DigestRun.lease_until.is_(None), DigestRun.lease_until <= now),
            or_(DigestRun.retry_at.is_(None), DigestRun.retry_at <= now),
        )
        .order_by(DigestRun.id)
    )
    return [(kind, period, channel) for kind, period, channel in rows]


async def channels_with_runs(session: AsyncSession, *, kind: str, period: str) -> set[str]:
    """The channels that have a claim row (in any state) for (kind, period)."""
    rows = await session.scalars(
        select(DigestRun.channel_id).where(DigestRun.kind == kind, DigestRun.period == period)
    )
    return set(rows)


async def latest_posted(session: AsyncSession) -> list[PostedDigest]:
    """The newest posted digest of each kind and channel, weekly first, then by channel."""
    newest = (
        select(func.max(DigestRun.id).label("id"))
        .where(DigestRun.status == RunStatus.POSTED, DigestRun.message_ts.is_not(None))
        .group_by(DigestRun.kind, DigestRun.channel_id)
        .subquery()
    )
    rows = await session.execute(
        select(DigestRun.kind, DigestRun.period, DigestRun.channel_id, DigestRun.message_ts)
        .join(newest, DigestRun.id == newest.c.id)
        .order_by(DigestRun.kind.desc(), DigestRun.channel_id)
    )
    return [PostedDigest(kind, period, channel, ts or "") for kind, period, channel, ts in rows]


async def latest_period_runs(session: AsyncSession, *, kind: PeriodKind) -> list[DigestRun]:
    """The rows (one per channel) of the period of the newest ``kind`` row; none before the first run."""
    latest = await session.scalar(
        select(DigestRun.period).where(DigestRun.kind == kind).order_by(DigestRun.id.desc()).limit(1)
    )
    if latest is None:
        return []
    rows = await session.scalars(
        select(DigestRun).where(DigestRun.kind == kind, DigestRun.period == latest).order_by(DigestRun.id)
    )
    return list(rows)


async def posted_periods(session: AsyncSession, *, wanted: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Which of the (kind, period) pairs ``wanted`` were posted to at least one channel (in order)."""
    if not wanted:
        return []
    rows = await session.execute(
        select(DigestRun.kind, DigestRun.period)
        .where(DigestRun.status == "posted", DigestRun.period.in_([p for _, p in wanted]))
        .distinct()
    )
    found = {(k, p) for k, p in rows}
    return [pair for pair in wanted if pair in found]
