"""Reading participation: marks on the bot's posts, review decisions and comments (read-only over the
review tables), nudge settings and past nudges (I/O through a passed-in AsyncSession; no Slack)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.participation.ids import MarkKind
from bot.participation.models import ParticipationMark, ParticipationNudge, ParticipationPrefs
from bot.participation.records import DecisionFact, HomePart, ParticipationSummary, summarize
from bot.periods import Period
from bot.review.ids import EventKind
from bot.review.models import ReviewEvent
from bot.workdays import WorkCalendar

#: Review events that are a reviewer's decision.
DECISION_KINDS = (
    EventKind.STEP_APPROVED.value,
    EventKind.APPROVED.value,
    EventKind.CHANGES_REQUESTED.value,
    EventKind.REJECTED.value,
)
#: Events after which a request waits on (the next step's) reviewers.
_WAIT_STARTS = (EventKind.REQUESTED.value, EventKind.RESUBMITTED.value, EventKind.STEP_APPROVED.value)
#: A reviewer taking part without deciding.
_COMMENT_KINDS = (EventKind.COMMENTED.value,)


@dataclass(frozen=True, slots=True)
class MarkCounts:
    """Reactions and replies per user in a period (removed reactions left out)."""

    reactions: dict[str, int]
    replies: dict[str, int]


async def mark_counts(session: AsyncSession, *, start: datetime, end: datetime) -> MarkCounts:
    rows = await session.execute(
        select(ParticipationMark.user_id, ParticipationMark.kind, func.count())
        .where(
            ParticipationMark.at >= start, ParticipationMark.at < end, ParticipationMark.removed.is_(False)
        )
        .group_by(ParticipationMark.user_id, ParticipationMark.kind)
    )
    reactions: dict[str, int] = {}
    replies: dict[str, int] = {}
    for user, kind, count in rows:
        (reactions if kind == MarkKind.REACTION else replies)[user] = int(count)
    return MarkCounts(reactions, replies)


async def decisions(session: AsyncSession, *, start: datetime, end: datetime) -> list[DecisionFact]:
    """Every review decision in ``[start, end)``, with when its request started waiting on that step
    (the latest request, resubmission or earlier step's approval before it)."""
    rows = (
        await session.execute(
            select(
                ReviewEvent.id, ReviewEvent.request_id, ReviewEvent.actor_id, ReviewEvent.created_at
            ).where(
                ReviewEvent.created_at >= start,
                ReviewEvent.created_at < end,
                ReviewEvent.kind.in_(DECISION_KINDS),
                ReviewEvent.actor_id.is_not(None),
            )
        )
    ).all()
    if not rows:
        return []
    starts: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for request_id, event_id, at in await session.execute(
        select(ReviewEvent.request_id, ReviewEvent.id, ReviewEvent.created_at).where(
            ReviewEvent.request_id.in_({r.request_id for r in rows}), ReviewEvent.kind.in_(_WAIT_STARTS)
        )
    ):
        starts[request_id].append((event_id, at))
    out: list[DecisionFact] = []
    for event_id, request_id, actor, at in rows:
        before = [when for sid, when in starts.get(request_id, ()) if sid < event_id]
        out.append(DecisionFact(str(actor), max(before) if before else at, at))
    return out


async def commenters(session: AsyncSession, *, start: datetime, end: datetime) -> list[str]:
    """One entry per review comment in ``[start, end)``."""
    rows = await session.scalars(
        select(ReviewEvent.actor_id).where(
            ReviewEvent.created_at >= start,
            ReviewEvent.created_at < end,
            ReviewEvent.kind.in_(_COMMENT_KINDS),
            ReviewEvent.actor_id.is_not(None),
        )
    )
    return [str(actor) for actor in rows]


async def period_summary(
    session: AsyncSession,
    *,
    period: Period,
    tz: ZoneInfo,
    managers: Sequence[str],
    calendar: WorkCalendar,
    requesters: Sequence[str] = (),
    wins: int = 0,
) -> ParticipationSummary:
    """The managers' part in ``period`` (``requesters`` and ``wins`` are the caller's, for the operators' line)."""
    start, end = period.bounds_utc(tz)
    marks = await mark_counts(session, start=start, end=end)
    return summarize(
        managers=managers,
        decisions=await decisions(session, start=start, end=end),
        comments=await commenters(session, start=start, end=end),
        reactions=marks.reactions,
        replies=marks.replies,
        calendar=calendar,
        requesters=requesters,
        wins=wins,
    )


async def managers_who_reacted(
    session: AsyncSession, *, start: datetime, end: datetime, managers: Iterable[str]
) -> int:
    """How many of ``managers`` reacted to one of the bot's posts in ``[start, end)``."""
    wanted = set(managers)
    if not wanted:
        return 0
    rows = await session.scalars(
        select(ParticipationMark.user_id)
        .where(
            ParticipationMark.kind == MarkKind.REACTION,
            ParticipationMark.at >= start,
            ParticipationMark.at < end,
            ParticipationMark.removed.is_(False),
            ParticipationMark.user_id.in_(wanted),
        )
        .distinct()
    )
    return len(set(rows))


async def last_participation(session: AsyncSession, *, users: Sequence[str]) -> dict[str, datetime]:
    """Each user's latest reaction, reply, decision or review comment (users without any are absent)."""
    if not users:
        return {}
    out: dict[str, datetime] = {}
    marks = await session.execute(
        select(ParticipationMark.user_id, func.max(ParticipationMark.at))
        .where(ParticipationMark.user_id.in_(users), ParticipationMark.removed.is_(False))
        .group_by(ParticipationMark.user_id)
    )
    reviews = await session.execute(
        select(ReviewEvent.actor_id, func.max(ReviewEvent.created_at))
        .where(ReviewEvent.actor_id.in_(users), ReviewEvent.kind.in_(DECISION_KINDS + _COMMENT_KINDS))
        .group_by(ReviewEvent.actor_id)
    )
    for user, at in [*marks, *reviews]:
        if user is not None and at is not None and (user not in out or at > out[user]):
            out[str(user)] = at
    return out


async def prefs_of(session: AsyncSession, *, users: Sequence[str]) -> dict[str, ParticipationPrefs]:
    if not users:
        return {}
    rows = await session.scalars(select(ParticipationPrefs).where(ParticipationPrefs.user_id.in_(users)))
    return {row.user_id: row for row in rows}


async def nudges_off(session: AsyncSession, *, user_id: str) -> bool:
    off = await session.scalar(
        select(ParticipationPrefs.nudges_off).where(ParticipationPrefs.user_id == user_id)
    )
    return bool(off)


async def last_nudges(session: AsyncSession, *, users: Sequence[str]) -> dict[str, datetime]:
    """Each user's latest nudge claim (sent or being sent)."""
    if not users:
        return {}
    rows = await session.execute(
        select(ParticipationNudge.user_id, func.max(ParticipationNudge.claimed_at))
        .where(ParticipationNudge.user_id.in_(users))
        .group_by(ParticipationNudge.user_id)
    )
    return {str(user): at for user, at in rows if at is not None}


async def home_part(
    session: AsyncSession,
    *,
    user_id: str,
    period: Period,
    tz: ZoneInfo,
    managers: Sequence[str],
    calendar: WorkCalendar,
    feature_on: bool,
) -> HomePart:
    roster = list(dict.fromkeys([*managers, user_id]))
    summary = await period_summary(session, period=period, tz=tz, managers=roster, calendar=calendar)
    team = [m for m in summary.managers if m.user_id in set(managers)] or list(summary.managers)
    mine = next(m for m in summary.managers if m.user_id == user_id)
    took_part = sum(1 for m in team if m.took_part)
    return HomePart(
        period=period,
        mine=mine,
        team_rate=ParticipationSummary(tuple(team)).rate,
        team_took_part=took_part,
        team_size=len(team),
        nudges_on=not await nudges_off(session, user_id=user_id),
        feature_on=feature_on,
    )


async def tracking_since(session: AsyncSession) -> datetime | None:
    """Since when the store knows how people take part (the first mark or review event): silence is
    never counted from before it, so a new install does not nudge everyone on its first day."""
    first_mark = await session.scalar(select(func.min(ParticipationMark.at)))
    first_review = await session.scalar(select(func.min(ReviewEvent.created_at)))
    known = [at for at in (first_mark, first_review) if at is not None]
    return min(known) if known else None
