"""Read-only questions about digest runs (I/O: a passed-in AsyncSession, reads only).

The retry sweep asks which claims are due and which channels have a row; the App Home asks which
digests were posted last and how the newest period of a kind went. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import unit_of_work
from bot.digest.models import DigestRun, RunStatus, Win
from bot.periods import PeriodKind
from bot.runtime.ports import RecentWins, WinBrief


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


def message_url(channel: str, ts: str) -> str:
    """Slack's archive URL of a message (it redirects to the message in the reader's workspace)."""
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


async def recent_wins(session: AsyncSession, *, start: datetime, end: datetime, limit: int) -> RecentWins:
    """Wins shared in ``[start, end)`` (oldest first, at most ``limit``), how many, and where to read
    them: the newest posted weekly digest, else the first win's message."""
    total = await session.scalar(
        select(func.count()).select_from(Win).where(Win.created_at >= start, Win.created_at < end)
    )
    rows = await session.execute(
        select(Win.what_happened, Win.permalink)
        .where(Win.created_at >= start, Win.created_at < end)
        .order_by(Win.created_at, Win.id)
        .limit(limit)
    )
    wins = tuple(WinBrief(what, link) for what, link in rows)
    weekly = next((p for p in await latest_posted(session) if p.kind == PeriodKind.WEEKLY), None)
    url = message_url(weekly.channel_id, weekly.message_ts) if weekly and weekly.message_ts else None
    if url is None:
        url = next((w.permalink for w in wins if w.permalink), None)
    return RecentWins(wins=wins, total=int(total or 0), url=url)


class StoredWins:
    """:class:`bot.runtime.ports.WinsReader` over the digest store."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def recent(self, *, start: datetime, end: datetime, limit: int) -> RecentWins:
        async with unit_of_work(self._sessions) as session:
            return await recent_wins(session, start=start, end=end, limit=limit)
