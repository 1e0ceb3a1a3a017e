"""What a user's App Home shows, read from the store (I/O through a passed-in AsyncSession; reads only).

The review and digest queries here are read-only over those features' models: the Home needs
"the oldest N plus a total" (so any amount of data fits Slack's 100 blocks) and those features
expose lists, not pages. KPI numbers come from the KPI feature's reads (:mod:`bot.kpi.queries`),
away mode from :mod:`bot.away.queries`; every button the Home shows is handled by its owner.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Integer, Select, String, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import queries as action_queries
from bot.away import queries as away_queries
from bot.config import Settings
from bot.digest.models import DigestRun
from bot.digest.schedule import last_due, previous_fire_time, trigger_for
from bot.home.records import (
    AdminData,
    CollectorState,
    DigestKind,
    DigestLink,
    DigestState,
    HomeData,
    ItemPage,
    ReviewItem,
)
from bot.kpi.collector_runs import latest_collector_runs
from bot.kpi.models import CollectorRun
from bot.kpi.queries import this_month
from bot.participation import queries as participation
from bot.participation.roster import working_hours
from bot.review.models import ReviewApprover, ReviewRequest, ReviewRevision
from bot.review.queries import open_for_clause, waiting_on_clause

#: A page of Home lines: one row per request (its columns and the window total).
_Page: TypeAlias = Select[*tuple[Any, ...]]
#: Reviews waiting on a user shown with their buttons; the rest are counted ("…and N more").
WAITING_SHOWN = 10
#: Own open requests shown; the rest are counted.
MINE_SHOWN = 10

# ---------------------------------------------------------------------------------------------
# Reviews
# ---------------------------------------------------------------------------------------------


def _page_statement(where: ColumnElement[bool]) -> _Page:
    """The oldest ``:limit`` requests matching ``where`` and how many match in all, in one statement
    (the total is a window count over the same rows, taken before the LIMIT)."""
    return (
        select(
            ReviewRequest.id,
            ReviewRequest.revision,
            ReviewRequest.version,
            ReviewRequest.requester_id,
            ReviewRequest.account_key,
            ReviewRequest.status,
            ReviewRevision.text,
            ReviewRequest.planned_at,
            ReviewRequest.waiting_since,
            ReviewRequest.channel_id,
            ReviewRequest.message_ts,
            ReviewRequest.due_at,
            func.count().over().label("total"),
        )
        .outerjoin(
            ReviewRevision,
            and_(
                ReviewRevision.request_id == ReviewRequest.id,
                ReviewRevision.number == ReviewRequest.revision,
            ),
        )
        .where(where)
        .order_by(ReviewRequest.waiting_since, ReviewRequest.id)
        .limit(bindparam("limit", type_=Integer))
    )


# Built once with bound parameters: building and cache-keying a statement of this size costs about
# 0.5 ms a call, as much as running it.
_USER = bindparam("user_id", type_=String)
_WAITING_PAGE = _page_statement(waiting_on_clause(_USER))
_MINE_PAGE = _page_statement(open_for_clause(_USER))


async def _page(session: AsyncSession, statement: _Page, *, user_id: str, limit: int) -> ItemPage:
    rows = (await session.execute(statement, {"user_id": user_id, "limit": limit})).all()
    if not rows:
        return ItemPage()
    items = tuple(
        ReviewItem(
            id=r.id,
            revision=r.revision,
            version=r.version,
            requester_id=r.requester_id,
            account_key=r.account_key,
            status=r.status,
            text=r.text or "",
            planned_at=r.planned_at,
            waiting_since=r.waiting_since,
            channel_id=r.channel_id,
            message_ts=r.message_ts,
            due_at=r.due_at,
        )
        for r in rows
    )
    return ItemPage(items=items, total=int(rows[0].total))


async def waiting_page(session: AsyncSession, *, user_id: str, limit: int = WAITING_SHOWN) -> ItemPage:
    """Reviews waiting on ``user_id``, oldest first (by when they started waiting)."""
    return await _page(session, _WAITING_PAGE, user_id=user_id, limit=limit)


async def mine_page(session: AsyncSession, *, user_id: str, limit: int = MINE_SHOWN) -> ItemPage:
    """``user_id``'s unfinished requests (``review.queries.open_for_clause``), oldest first."""
    return await _page(session, _MINE_PAGE, user_id=user_id, limit=limit)


async def request_audience(session: AsyncSession, *, request_id: int) -> set[str]:
    """Whose Home shows request ``request_id``: its requester and every approver of every step."""
    requester = await session.scalar(select(ReviewRequest.requester_id).where(ReviewRequest.id == request_id))
    approvers = await session.scalars(
        select(ReviewApprover.user_id).where(ReviewApprover.request_id == request_id).distinct()
    )
    return ({requester} if requester else set()) | set(approvers.all())


# ---------------------------------------------------------------------------------------------
# Digests and collectors
# ---------------------------------------------------------------------------------------------


async def latest_digests(session: AsyncSession) -> tuple[DigestLink, ...]:
    """The newest posted digest of each kind and channel, weekly first."""
    newest = (
        select(func.max(DigestRun.id).label("id"))
        .where(DigestRun.status == "posted", DigestRun.message_ts.is_not(None))
        .group_by(DigestRun.kind, DigestRun.channel_id)
        .subquery()
    )
    rows = await session.execute(
        select(DigestRun.kind, DigestRun.period, DigestRun.channel_id, DigestRun.message_ts)
        .join(newest, DigestRun.id == newest.c.id)
        .order_by(DigestRun.kind.desc(), DigestRun.channel_id)
    )
    return tuple(DigestLink(kind, period, channel, ts or "") for kind, period, channel, ts in rows)


async def digest_states(
    session: AsyncSession, *, settings: Settings, now: datetime
) -> tuple[DigestState, ...]:
    out: list[DigestState] = []
    kinds: tuple[tuple[DigestKind, tuple[str, ...]], ...] = (
        (DigestKind.WEEKLY, settings.digest.weekly.channels),
        (DigestKind.MONTHLY, settings.digest.monthly.channels),
    )
    if settings.digest.quarterly.enabled:  # off by default: no line for a digest nobody turned on
        kinds += ((DigestKind.QUARTERLY, settings.digest.quarterly.active_channels),)
    for kind, channels in kinds:
        trigger = trigger_for(settings, kind)
        fire = trigger.get_next_fire_time(None, now.astimezone(settings.tz)) if channels else None
        next_at = fire.astimezone(UTC) if fire is not None else None
        latest = (
            await session.scalars(
                select(DigestRun).where(DigestRun.kind == kind).order_by(DigestRun.id.desc()).limit(1)
            )
        ).first()
        previous = previous_fire_time(trigger, now, settings.tz)
        expected = last_due(settings, kind, previous).label if previous is not None else None
        if not channels:
            status, period, last_at, error = "off", None, None, None
        elif latest is None:
            status, period, last_at, error = "never", expected, None, None
        elif expected is not None and latest.period < expected:
            # The scheduled run for the last finished period left no row: the bot was down past the grace.
            status, period, last_at, error = "missed", expected, previous, None
        else:
            period_rows = (
                await session.scalars(
                    select(DigestRun).where(DigestRun.kind == kind, DigestRun.period == latest.period)
                )
            ).all()
            status = _worst(r.status for r in period_rows)
            period = latest.period
            last_at = max((r.posted_at or r.created_at) for r in period_rows)
            error = next((r.error for r in period_rows if r.error), None)
        out.append(DigestState(kind, channels, status, period, last_at, next_at, error))
    return tuple(out)


_SEVERITY = ("failed", "missed", "claimed", "skipped", "posted")


def _worst(statuses: Iterable[str]) -> str:
    """One status for a period posted to several channels: the most alarming wins."""
    seen = set(statuses)
    return next((s for s in _SEVERITY if s in seen), "posted")


async def collector_states(session: AsyncSession) -> tuple[CollectorState, ...]:
    runs: list[CollectorRun] = await latest_collector_runs(session)
    return tuple(
        CollectorState(
            r.platform,
            r.status,
            r.started_at,
            r.finished_at,
            r.posts_updated,
            r.error,
            posts_seen=r.posts_seen,
            posts_new=r.posts_new,
        )
        for r in runs
    )


# ---------------------------------------------------------------------------------------------
# The whole Home
# ---------------------------------------------------------------------------------------------


async def load_home(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: str,
    is_manager: bool,
    can_record: bool,
    now: datetime,
    managers: Sequence[str] | None = None,
) -> HomeData:
    """Everything ``user_id``'s Home shows (the admin part only for admins; a manager's part this month
    next to the team's, given the ``managers`` with user groups expanded)."""
    today = now.astimezone(settings.tz).date()
    kpis = await this_month(session, settings=settings, now=now)
    is_admin = settings.is_admin(user_id)
    admin = None
    if is_admin:
        admin = AdminData(
            digests=await digest_states(session, settings=settings, now=now),
            collectors=await collector_states(session),
        )
    actions, actions_total = await action_queries.open_for_owner(session, owner_id=user_id)
    return HomeData(
        user_id=user_id,
        actions=tuple(actions),
        actions_total=actions_total,
        now=now,
        is_manager=is_manager,
        is_admin=is_admin,
        can_record=can_record,
        away_until=await away_queries.away_until(session, user_id=user_id, today=today)
        if is_manager
        else None,
        delegate_id=await away_queries.delegate_of(session, user_id=user_id) if is_manager else None,
        waiting=await waiting_page(session, user_id=user_id),
        mine=await mine_page(session, user_id=user_id),
        month=kpis.month,
        elapsed=kpis.elapsed,
        kpis=kpis.statuses,
        digests=await latest_digests(session),
        admin=admin,
        participation=await participation.home_part(
            session,
            user_id=user_id,
            period=kpis.month,
            tz=settings.tz,
            managers=managers,
            calendar=working_hours(settings),
            feature_on=settings.participation.nudges,
        )
        if is_manager and managers is not None
        else None,
    )
