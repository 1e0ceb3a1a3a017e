"""A period's facts from the store, and the composed weekly and monthly digests built on them
(I/O: a passed-in AsyncSession; the arithmetic is ``compose``'s, pure).

Posts are answered in SQL, so a busy month costs a handful of rows, not one per post; reviews,
wins and waiting requests are read from the review and digest tables (read-only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import BindParameter, Float, and_, bindparam, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.queries import review_memory
from bot.calendars import working_hours_calendar
from bot.config import Settings
from bot.digest.compose import (
    DECISION_EVENTS,
    FINISHED_STATUSES,
    REASON_EVENTS,
    ActivityFacts,
    AuthorFact,
    KpiPoint,
    MonthlyDigest,
    PostFact,
    ReviewFact,
    WaitingFact,
    WeeklyDigest,
    WinFact,
    compose_monthly,
    compose_weekly,
)
from bot.digest.models import Win
from bot.digest.quarterly import HISTORY_MONTHS, compose_quarterly
from bot.kpi.models import Post
from bot.milestones.queries import milestones_in
from bot.participation import queries as participation
from bot.periods import Period, months_back
from bot.review.models import ReviewApprover, ReviewEvent, ReviewRequest

# The statements of fetch_facts, built once with the period's bounds as parameters: building and
# cache-keying them costs about 0.5 ms a call each, as much as running one on an indexed store.
_START: BindParameter[Any] = bindparam("start")
_END: BindParameter[Any] = bindparam("end")
# Posts are answered in SQL: a month of a busy team is thousands of rows (texts included), of
# which a digest shows a handful. Plain table columns: no ORM row loading.
_POST = Post.__table__.c
_IN_PERIOD = and_(_POST.published_at >= _START, _POST.published_at < _END)
#: One row per author (NULL included): the counts add up to the period's posts.
_POST_AUTHORS = (
    select(_POST.author, func.count(), func.min(_POST.published_at)).where(_IN_PERIOD).group_by(_POST.author)
)
#: The best posts in ``compose.top_posts``' order, ranked by the same IEEE division
#: (``PostFact.ratio``): engagements per impression, then engagements, then the earlier post.
_RATIO = cast(_POST.engagements, Float) / _POST.impressions
_BEST_POSTS = (
    select(
        _POST.account_key,
        _POST.url,
        _POST.text,
        _POST.author,
        _POST.published_at,
        _POST.impressions,
        _POST.engagements,
    )
    .where(
        _IN_PERIOD,
        _POST.impressions > 0,
        _POST.impressions >= bindparam("min_impressions"),
        _POST.engagements.is_not(None),
    )
    .order_by(_RATIO.desc(), _POST.engagements.desc(), _POST.published_at, _POST.id)
    .limit(bindparam("best"))
)
# Requests decided or created in the period: one statement (two index ranges, OR-ed), split and
# ordered in Python. The status is checked there too: with ``status IN (…)`` SQLite walks the
# status index over every finished request ever instead of the period's ranges.
_REQUESTS = select(
    ReviewRequest.id,
    ReviewRequest.requester_id,
    ReviewRequest.status,
    ReviewRequest.created_at,
    ReviewRequest.decided_at,
).where(
    or_(
        and_(ReviewRequest.decided_at >= _START, ReviewRequest.decided_at < _END),
        and_(ReviewRequest.created_at >= _START, ReviewRequest.created_at < _END),
    )
)
_DECISIONS = (
    select(ReviewEvent.kind, ReviewEvent.actor_id, ReviewEvent.reasons)
    .where(
        ReviewEvent.created_at >= _START,
        ReviewEvent.created_at < _END,
        ReviewEvent.kind.in_(DECISION_EVENTS),
    )
    .order_by(ReviewEvent.created_at, ReviewEvent.id)
)
#: Waiting requests (now, whatever the period) with the approvers of their current step, one row
#: per approver.
_WAITING = (
    select(
        ReviewRequest.id,
        ReviewRequest.requester_id,
        ReviewRequest.account_key,
        ReviewRequest.waiting_since,
        ReviewRequest.channel_id,
        ReviewRequest.message_ts,
        ReviewApprover.user_id,
    )
    .outerjoin(
        ReviewApprover,
        and_(
            ReviewApprover.request_id == ReviewRequest.id,
            ReviewApprover.step == ReviewRequest.current_step,
        ),
    )
    .where(ReviewRequest.status == "pending")
    .order_by(ReviewRequest.waiting_since, ReviewRequest.id, ReviewApprover.id)
)
_WINS = (
    select(
        Win.what_happened,
        Win.permalink,
        Win.kpi_key,
        Win.nominated_by,
        Win.message_author,
        Win.created_at,
    )
    .where(Win.created_at >= _START, Win.created_at < _END)
    .order_by(Win.created_at, Win.id)
)


async def fetch_facts(session: AsyncSession, *, period: Period, settings: Settings) -> ActivityFacts:
    """Everything a digest needs about ``period`` from the store (plus reviews waiting now), in
    six statements."""
    start, end = period.bounds_utc(settings.tz)
    bounds = {"start": start, "end": end}
    digest = settings.digest
    authors = (await session.execute(_POST_AUTHORS, bounds)).all()
    best = await session.execute(
        _BEST_POSTS,
        {
            **bounds,
            "min_impressions": digest.weekly.min_impressions,  # both digests use the weekly floor
            "best": max(digest.weekly.top_posts, digest.monthly.best_posts, digest.quarterly.best_posts),
        },
    )
    requests = (await session.execute(_REQUESTS, bounds)).all()
    completed = sorted(
        (
            ReviewFact(r.id, r.requester_id, r.status, r.created_at, r.decided_at)
            for r in requests
            if r.decided_at is not None and start <= r.decided_at < end and r.status in FINISHED_STATUSES
        ),
        key=lambda f: (f.decided_at, f.request_id),
    )
    requesters = [
        r.requester_id
        for r in sorted(requests, key=lambda r: (r.created_at, r.id))
        if start <= r.created_at < end
    ]
    events = (await session.execute(_DECISIONS, bounds)).all()
    # One row per approver of a waiting request's current step (none: one row, user NULL).
    waiting: dict[int, WaitingFact] = {}
    reviewers: dict[int, list[str]] = {}
    for (
        request_id,
        requester_id,
        account_key,
        since,
        channel_id,
        message_ts,
        user_id,
    ) in await session.execute(_WAITING):
        if request_id not in waiting:
            waiting[request_id] = WaitingFact(
                request_id, requester_id, account_key, since, channel_id, message_ts
            )
            reviewers[request_id] = []
        if user_id is not None:
            reviewers[request_id].append(user_id)
    wins = await session.execute(_WINS, bounds)
    reasons = [
        str(reason)
        for kind, _actor, event_reasons in events
        if kind in REASON_EVENTS and isinstance(event_reasons, list)
        for reason in event_reasons
    ]
    return ActivityFacts(
        period=period,
        posts_published=sum(count for _author, count, _first in authors),
        best_posts=tuple(PostFact(*row) for row in best),
        authors=tuple(AuthorFact(*row) for row in authors if row[0] is not None),
        completed=tuple(completed),
        reviewers=tuple(actor for _kind, actor, _r in events if actor),
        requesters=tuple(requesters),
        waiting=tuple(
            replace(fact, reviewers=tuple(reviewers[request_id])) for request_id, fact in waiting.items()
        ),
        wins=tuple(WinFact(*row) for row in wins),
        reasons=tuple(reasons),
    )


async def fetch_kpi_history(
    session: AsyncSession, *, period: Period, settings: Settings
) -> dict[str, list[KpiPoint]]:
    """13 months per KPI (same month last year … ``period``) from the KPI store."""
    from bot.kpi.queries import kpi_months

    months = months_back(period, 13)
    found = await kpi_months(session, settings=settings, months=months)
    return {key: [KpiPoint(m.month, m.value, m.target) for m in items] for key, items in found.items()}


async def build_weekly(
    session: AsyncSession, *, period: Period, settings: Settings, managers: Sequence[str] = ()
) -> WeeklyDigest:
    """The weekly digest; with ``managers`` (user groups expanded), its invitation line says how
    many of them reacted to the bot's posts in the week."""
    facts = await fetch_facts(session, period=period, settings=settings)
    weekly = settings.digest.weekly
    calendar = working_hours_calendar(settings.review.working_hours, settings.tz)
    digest = compose_weekly(
        facts, min_impressions=weekly.min_impressions, top_n=weekly.top_posts, calendar=calendar
    )
    if settings.milestones.enabled:
        found = await milestones_in(session, period=period, tz=settings.tz)
        digest = replace(digest, milestones=tuple(m.found for m in found))
    if not managers:
        return digest
    start, end = period.bounds_utc(settings.tz)
    reacted = await participation.managers_who_reacted(session, start=start, end=end, managers=managers)
    return replace(digest, managers_reacted=reacted, managers_total=len(set(managers)))


async def build_quarterly(
    session: AsyncSession,
    *,
    period: Period,
    settings: Settings,
    managers: Sequence[str] = (),
    unresolved: Sequence[str] = (),
) -> MonthlyDigest:
    """The quarterly digest of ``period`` (a fiscal quarter): the quarter's facts, and 15 months of
    KPI history with the engagement rate's post sums, rolled up by ``bot.digest.quarterly``; with
    ``managers``, the quarter's participation section (as the monthly digest's)."""
    from bot.kpi.queries import kpi_figures

    facts = await fetch_facts(session, period=period, settings=settings)
    months = months_back(period.months()[-1], HISTORY_MONTHS)
    found, stats = await kpi_figures(session, settings=settings, months=months)
    history = {key: [KpiPoint(m.month, m.value, m.target) for m in items] for key, items in found.items()}
    calendar = working_hours_calendar(settings.review.working_hours, settings.tz)
    digest = compose_quarterly(
        facts,
        kpis=settings.kpis,
        history=history,
        stats=stats,
        min_impressions=settings.digest.weekly.min_impressions,
        best_n=settings.digest.quarterly.best_posts,
        calendar=calendar,
    )
    return await _with_participation(
        session, digest, facts=facts, settings=settings, managers=managers, unresolved=unresolved
    )


async def build_monthly(
    session: AsyncSession,
    *,
    period: Period,
    settings: Settings,
    managers: Sequence[str] = (),
    unresolved: Sequence[str] = (),
) -> MonthlyDigest:
    """The monthly digest; with ``managers`` (user groups expanded) and ``[digest.monthly]
    participation`` not ``off``, its participation section."""
    facts = await fetch_facts(session, period=period, settings=settings)
    history = await fetch_kpi_history(session, period=period, settings=settings)
    calendar = working_hours_calendar(settings.review.working_hours, settings.tz)
    digest = compose_monthly(
        facts,
        kpis=settings.kpis,
        history=history,
        min_impressions=settings.digest.weekly.min_impressions,
        best_n=settings.digest.monthly.best_posts,
        calendar=calendar,
    )
    # The review's memory: last month's action items and those carried over (bot.actions).
    digest = replace(digest, memory=await review_memory(session, period=period))
    return await _with_participation(
        session, digest, facts=facts, settings=settings, managers=managers, unresolved=unresolved
    )


async def _with_participation(
    session: AsyncSession,
    digest: MonthlyDigest,
    *,
    facts: ActivityFacts,
    settings: Settings,
    managers: Sequence[str],
    unresolved: Sequence[str] = (),
) -> MonthlyDigest:
    """The digest with its period's participation section (none without ``managers`` or with
    ``[digest.monthly] participation = "off"``, which the quarterly digest follows too);
    ``unresolved``: manager user groups Slack did not name, which the section says are missing."""
    if not managers or settings.digest.monthly.participation == "off":
        return digest
    team = set(managers)  # the operators' line counts what the others did
    summary = await participation.period_summary(
        session,
        period=digest.period,
        tz=settings.tz,
        managers=managers,
        calendar=working_hours_calendar(settings.review.working_hours, settings.tz),
        requesters=[r for r in facts.requesters if r not in team],
        wins=sum(1 for w in facts.wins if w.nominated_by not in team),
    )
    return replace(digest, participation=replace(summary, unresolved_groups=len(set(unresolved))))
