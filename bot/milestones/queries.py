"""Reading what milestones are judged on (KPI months, post counts, follower counts, a quarter's best
post) and the milestones recorded in a period (I/O through a passed-in AsyncSession; no Slack)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Float, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.kpi.models import Account, AccountSnapshot, KpiValue, Post
from bot.kpi.queries import kpi_months
from bot.kpi.status import KpiMonth
from bot.milestones.detection import PostCandidate
from bot.milestones.ids import MilestoneKind
from bot.milestones.models import Milestone
from bot.milestones.records import Achieved, Found
from bot.periods import Period, months_back

#: The longest history a record is judged against (ten years of months).
MAX_HISTORY_MONTHS = 120


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight of ``day`` (the store converts it to UTC)."""
    return datetime.combine(day, time(0), tzinfo=tz)


async def _first_month(session: AsyncSession, *, tz: ZoneInfo) -> date | None:
    """The first month anything was recorded in: a KPI value, a post, a follower count."""
    firsts: list[date] = []
    recorded = await session.scalar(select(func.min(KpiValue.month)))
    if recorded:
        firsts.append(date(int(recorded[:4]), int(recorded[5:7]), 1))
    for column in (Post.published_at, AccountSnapshot.captured_at):
        moment = await session.scalar(select(func.min(column)))
        if moment is not None:
            firsts.append(moment.astimezone(tz).date().replace(day=1))
    return min(firsts) if firsts else None


async def kpi_history(
    session: AsyncSession, *, settings: Settings, until: Period
) -> dict[str, list[KpiMonth]]:
    """Every KPI's months from the first month with any data up to ``until`` (oldest first)."""
    first = await _first_month(session, tz=settings.tz)
    if first is None or first >= until.end:
        return {k.key: [] for k in settings.kpis}
    count = 1
    cursor = until
    while cursor.start > first and count < MAX_HISTORY_MONTHS:
        cursor = cursor.previous()
        count += 1
    return await kpi_months(session, settings=settings, months=months_back(until, count))


async def posts_published(session: AsyncSession, *, before: datetime) -> int:
    """Posts published before ``before``, all accounts."""
    return int(await session.scalar(select(func.count(Post.id)).where(Post.published_at < before)) or 0)


async def followers_at(session: AsyncSession, *, at: datetime) -> dict[str, int | None]:
    """Per configured account: its last follower count at or before ``at`` (None: none yet)."""
    out: dict[str, int | None] = {}
    for key in (await session.scalars(select(Account.key).order_by(Account.key))).all():
        count = await session.scalar(
            select(AccountSnapshot.followers)
            .where(
                AccountSnapshot.account_key == key,
                AccountSnapshot.captured_at <= at,
                AccountSnapshot.followers.is_not(None),
            )
            .order_by(AccountSnapshot.captured_at.desc(), AccountSnapshot.followers.desc())
            .limit(1)
        )
        out[key] = None if count is None else int(count)
    return out


async def best_post_of(
    session: AsyncSession, *, quarter: Period, tz: ZoneInfo, min_impressions: int
) -> PostCandidate | None:
    """The quarter's post with the highest engagement rate among those with at least
    ``min_impressions`` impressions (ties: more engagements, then the earlier post)."""
    rate = cast(Post.engagements, Float) / Post.impressions
    row = (
        await session.execute(
            select(
                Post.account_key,
                Post.url,
                Post.text,
                Post.published_at,
                Post.impressions,
                Post.engagements,
            )
            .where(
                Post.published_at >= _midnight(quarter.start, tz),
                Post.published_at < _midnight(quarter.end, tz),
                Post.impressions > 0,
                Post.impressions >= max(1, min_impressions),
                Post.engagements.is_not(None),
            )
            .order_by(rate.desc(), Post.engagements.desc(), Post.published_at, Post.id)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    account, url, text, published_at, impressions, engagements = row
    return PostCandidate(account, url, text or "", published_at, int(impressions or 0), int(engagements or 0))


def _achieved(row: Milestone) -> Achieved:
    found = Found(
        MilestoneKind(row.kind),
        row.subject,
        row.mark,
        value=row.value,
        previous=row.previous,
        detail=dict(row.detail or {}),
    )
    return Achieved(row.id, found, row.detected_at, row.announced_at)


async def recorded(session: AsyncSession, *, found: Sequence[Found]) -> set[tuple[str, str, str]]:
    """Which of ``found`` are recorded already, as ``(kind, subject, mark)``."""
    if not found:
        return set()
    rows = await session.execute(
        select(Milestone.kind, Milestone.subject, Milestone.mark).where(
            Milestone.kind.in_({f.kind.value for f in found}),
            Milestone.subject.in_({f.subject for f in found}),
            Milestone.mark.in_({f.mark for f in found}),
        )
    )
    return {(kind, subject, mark) for kind, subject, mark in rows}


async def get_milestone(session: AsyncSession, *, milestone_id: int) -> Achieved | None:
    row = await session.get(Milestone, milestone_id)
    return None if row is None else _achieved(row)


async def milestones_in(session: AsyncSession, *, period: Period, tz: ZoneInfo) -> list[Achieved]:
    """The milestones detected in ``period`` (local dates), in the order they were detected."""
    start, end = period.bounds_utc(tz)
    rows = await session.scalars(
        select(Milestone)
        .where(Milestone.detected_at >= start, Milestone.detected_at < end)
        .order_by(Milestone.detected_at, Milestone.id)
    )
    return [_achieved(row) for row in rows]
