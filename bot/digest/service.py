"""Digest I/O: fetch a period's facts from the store, and post a digest exactly once per channel
(claim row with a lease → post with retries → record the ts), plus catch-up after downtime.

``send_digest`` is the one path used by the scheduler job, the start-up catch-up and
``sns-bot digest --post``. Exactly-once rests on the ``digest_run`` unique row, not on the
scheduler: whoever inserts (or takes over an expired) claim posts; a claim whose poster died
before recording the ts is recovered by looking for the message (by its metadata) in the
channel before posting again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import Float, and_, bindparam, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db import dialect_insert, unit_of_work
from bot.digest import ui
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
from bot.digest.ids import is_digest_message
from bot.digest.models import DigestRun, Win
from bot.digest.periods import Period, PeriodKind, months_back
from bot.errors import BotError
from bot.home.publisher import refresh_home
from bot.i18n import translator
from bot.kpi.models import Post
from bot.review.models import ReviewApprover, ReviewEvent, ReviewRequest
from bot.slack.blocks import Message
from bot.slack.client import without_retries
from bot.slack.idempotency import claim_key

if TYPE_CHECKING:
    from bot.app import Deps

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

#: Slack errors that retrying will not fix: the admins are told once.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "restricted_action",
        "invalid_blocks",
        "msg_too_long",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "no_permission",
    }
)
#: Posting attempts of one send (each after the Web API client's own quick retries).
POST_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 60.0
#: How far before a claim the channel history is searched (clock skew between replicas).
RECOVERY_MARGIN = timedelta(minutes=10)


# ---------------------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------------------


# The statements of fetch_facts, built once with the period's bounds as parameters: building and
# cache-keying them costs about 0.5 ms a call each, as much as running one on an indexed store.
_START, _END = bindparam("start"), bindparam("end")
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
            "best": max(digest.weekly.top_posts, digest.monthly.best_posts),
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
    waiting: dict[int, Any] = {}
    reviewers: dict[int, list[str]] = {}
    for *request, user_id in await session.execute(_WAITING):
        waiting.setdefault(request[0], request)
        reviewers.setdefault(request[0], [])
        if user_id is not None:
            reviewers[request[0]].append(user_id)
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
            WaitingFact(*request, reviewers=tuple(reviewers[request_id]))
            for request_id, request in waiting.items()
        ),
        wins=tuple(WinFact(*row) for row in wins),
        reasons=tuple(reasons),
    )


async def fetch_kpi_history(
    session: AsyncSession, *, period: Period, settings: Settings
) -> dict[str, list[KpiPoint]]:
    """13 months per KPI (same month last year … ``period``) from the KPI store."""
    from bot.kpi.service import kpi_months

    months = months_back(period, 13)
    found = await kpi_months(session, settings=settings, months=months)
    return {key: [KpiPoint(m.month, m.value, m.target) for m in items] for key, items in found.items()}


async def build_weekly(session: AsyncSession, *, period: Period, settings: Settings) -> WeeklyDigest:
    facts = await fetch_facts(session, period=period, settings=settings)
    weekly = settings.digest.weekly
    return compose_weekly(facts, min_impressions=weekly.min_impressions, top_n=weekly.top_posts)


async def build_monthly(session: AsyncSession, *, period: Period, settings: Settings) -> MonthlyDigest:
    facts = await fetch_facts(session, period=period, settings=settings)
    history = await fetch_kpi_history(session, period=period, settings=settings)
    return compose_monthly(
        facts,
        kpis=settings.kpis,
        history=history,
        min_impressions=settings.digest.weekly.min_impressions,
        best_n=settings.digest.monthly.best_posts,
    )


# ---------------------------------------------------------------------------------------------
# Rendering for a channel
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    title: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Rendered:
    """What gets posted: the message per channel (metadata differs) and files for its thread."""

    digest: WeeklyDigest | MonthlyDigest
    uploads: tuple[Upload, ...]

    @property
    def empty(self) -> bool:
        return self.digest.empty

    def message(self, settings: Settings, channel: str) -> Message:
        t = translator(settings.locale)
        if isinstance(self.digest, WeeklyDigest):
            return ui.weekly_message(self.digest, settings=settings, t=t, channel=channel)
        return ui.monthly_message(self.digest, settings=settings, t=t, channel=channel)


def render_chart(digest: MonthlyDigest, *, settings: Settings) -> bytes:
    """The monthly chart PNG (CPU-bound: callers run it in a thread)."""
    from bot.kpi.charts import render_trend_chart

    t = translator(settings.locale)
    return render_trend_chart(
        ui.chart_series(digest, locale=settings.locale),
        title=t("digest.monthly.chart_title", period=digest.period.label),
        locale=settings.locale,
        target_label=t("digest.monthly.chart_target"),
    )


async def render(deps: Deps, *, kind: PeriodKind, period: Period) -> Rendered:
    async with unit_of_work(deps.sessions) as session:
        if kind == "weekly":
            return Rendered(await build_weekly(session, period=period, settings=deps.settings), ())
        digest = await build_monthly(session, period=period, settings=deps.settings)
    if digest.empty or not digest.kpis:
        return Rendered(digest, ())
    t = deps.t
    png = await asyncio.to_thread(render_chart, digest, settings=deps.settings)
    uploads = (
        Upload(f"sns-kpi-{period.label}.png", t("digest.monthly.chart_title", period=period.label), png),
        Upload(
            f"sns-kpi-{period.label}.csv",
            t("digest.monthly.csv_title", period=period.label),
            ui.build_kpi_csv(digest, t=t),
        ),
    )
    return Rendered(digest, uploads)


# ---------------------------------------------------------------------------------------------
# Claims
# ---------------------------------------------------------------------------------------------

ClaimState = Literal["claimed", "recovering", "posted", "busy", "failed", "missed", "skipped"]


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to "may I post this digest to this channel?"."""

    state: ClaimState
    run_id: int
    claimed_at: datetime
    message_ts: str | None = None


def owner_id() -> str:
    """Who holds a claim: host and process, for the logs and the ``claimed_by`` column."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


async def claim(
    session: AsyncSession,
    *,
    kind: str,
    period: str,
    channel: str,
    now: datetime,
    lease: timedelta,
    owner: str,
    take_over: bool = False,
) -> Claim:
    """Claim (kind, period, channel) for posting, or say why not.

    A new row → ``claimed``. An existing claim whose lease ran out without a message ts →
    taken over as ``recovering`` (the caller must look for the message before posting). A
    ``failed`` or ``missed`` row is taken over only with ``take_over`` (an admin's ``--post``).
    """
    values = {
        "kind": kind,
        "period": period,
        "channel_id": channel,
        "status": "claimed",
        "claimed_by": owner,
        "lease_until": now + lease,
        "attempts": 1,
        "created_at": now,
    }
    stmt = (
        dialect_insert(session)(DigestRun)
        .values(values)
        .on_conflict_do_nothing(index_elements=["kind", "period", "channel_id"])
        .returning(DigestRun.id)
    )
    inserted = (await session.execute(stmt)).scalar_one_or_none()
    if inserted is not None:
        return Claim("claimed", inserted, now)
    row = (
        await session.execute(
            select(DigestRun).where(
                DigestRun.kind == kind, DigestRun.period == period, DigestRun.channel_id == channel
            )
        )
    ).scalar_one()
    if row.status in ("posted", "skipped") or (row.status in ("failed", "missed") and not take_over):
        return Claim(row.status, row.id, row.created_at, row.message_ts)  # type: ignore[arg-type]
    if row.status == "claimed" and row.lease_until is not None and row.lease_until > now:
        return Claim("busy", row.id, row.created_at)
    # Take over an abandoned (or failed) claim; the conditional UPDATE lets one replica win.
    taken = await session.execute(
        update(DigestRun)
        .where(
            DigestRun.id == row.id,
            DigestRun.status == row.status,
            DigestRun.attempts == row.attempts,
        )
        .values(status="claimed", claimed_by=owner, lease_until=now + lease, attempts=row.attempts + 1)
    )
    if getattr(taken, "rowcount", 0) != 1:
        return Claim("busy", row.id, row.created_at)
    return Claim("recovering", row.id, row.created_at)


async def _finish(
    deps: Deps, run_id: int, *, owner: str, status: str, ts: str | None = None, error: str | None = None
) -> None:
    now = deps.clock.now()
    async with unit_of_work(deps.sessions) as session:
        values: dict[str, Any] = {"status": status, "error": error, "lease_until": None}
        if ts is not None:
            values.update(message_ts=ts, posted_at=now)
        await session.execute(
            update(DigestRun).where(DigestRun.id == run_id, DigestRun.claimed_by == owner).values(values)
        )


async def _extend_lease(deps: Deps, run_id: int, *, owner: str) -> None:
    until = deps.clock.now() + timedelta(seconds=deps.settings.digest.lease_seconds)
    async with unit_of_work(deps.sessions) as session:
        await session.execute(
            update(DigestRun)
            .where(DigestRun.id == run_id, DigestRun.claimed_by == owner)
            .values(lease_until=until)
        )


@contextlib.asynccontextmanager
async def _lease_kept(deps: Deps, run_id: int, *, owner: str) -> AsyncIterator[None]:
    """Renew the claim's lease every third of it while this process works on the claim.

    The lease tells a live poster from a dead one. A Slack answer, a chart render or the backoff can
    take longer than the lease (10 s at the least); without renewal another replica would take over a
    claim whose post is still in flight and post the digest a second time. Renewal stops with the
    process, so a crashed poster's claim still expires.
    """
    interval = deps.settings.digest.lease_seconds / 3

    async def renew() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await _extend_lease(deps, run_id, owner=owner)
            except BotError as exc:  # the database is away: keep trying while the work goes on
                log.warning("digest claim %d: lease not renewed: %s", run_id, exc.key)

    renewing = asyncio.create_task(renew(), name=f"digest-lease-{run_id}")
    try:
        yield
    finally:
        renewing.cancel()
        await asyncio.gather(renewing, return_exceptions=True)


# ---------------------------------------------------------------------------------------------
# Slack
# ---------------------------------------------------------------------------------------------


async def find_posted(deps: Deps, *, kind: str, period: str, channel: str, since: datetime) -> str | None:
    """The ts of the digest post already in ``channel`` (matched by its metadata), if any."""
    cursor: str | None = None
    oldest = f"{(since - RECOVERY_MARGIN).timestamp():.6f}"
    for _page in range(20):  # a digest is found near the claim time; never page through a whole channel
        response = await deps.slack.conversations_history(
            channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
        )
        for message in response.get("messages") or []:
            if is_digest_message(message, kind=kind, period=period, channel=channel):
                return str(message["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not response.get("has_more") or not cursor:
            return None
    return None


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        return (
            status == 429
            or status >= 500
            or error
            in ("ratelimited", "internal_error", "service_unavailable", "fatal_error", "request_timeout")
        )
    return isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and isinstance(exc.response.data, dict):
        return str(exc.response.data.get("error") or exc.response.status_code)
    return type(exc).__name__


def _may_have_posted(exc: Exception) -> bool:
    """A 429 was refused before anything happened; a 5xx or a lost connection may have posted."""
    if isinstance(exc, SlackApiError):
        return getattr(exc.response, "status_code", 200) != 429
    return True


async def _post(
    deps: Deps,
    message: Message,
    *,
    channel: str,
    kind: str,
    period: str,
    run_id: int,
    owner: str,
    since: datetime,
    sleep: Sleep,
) -> str:
    """Post with backoff on 429/5xx/network errors, checking the channel before re-posting after
    an answer that may hide a successful post. Raises the last error when attempts run out."""
    # Our own loop retries, checking the channel first; the SDK's blind retries would double-post.
    poster = without_retries(deps.slack)
    for attempt in range(POST_ATTEMPTS):
        try:
            response = await poster.chat_postMessage(channel=channel, **message.kwargs())
            return str(response["ts"])
        except (TimeoutError, SlackApiError, aiohttp.ClientError, OSError) as exc:
            if not _is_transient(exc) or attempt == POST_ATTEMPTS - 1:
                raise
            delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
            log.warning(
                "digest %s %s → %s: %s; retrying in %.0fs", kind, period, channel, _error_text(exc), delay
            )
            await sleep(delay)
            await _extend_lease(deps, run_id, owner=owner)
            if _may_have_posted(exc):
                found = await find_posted(deps, kind=kind, period=period, channel=channel, since=since)
                if found is not None:
                    return found
    raise AssertionError("unreachable")


async def _upload(deps: Deps, *, channel: str, ts: str, uploads: Sequence[Upload]) -> None:
    """Attach the chart and CSV in the digest's thread; a failure here never undoes the post."""
    if not uploads:
        return
    try:
        await deps.slack.files_upload_v2(
            channel=channel,
            thread_ts=ts,
            file_uploads=[{"content": u.content, "filename": u.filename, "title": u.title} for u in uploads],
        )
    except (TimeoutError, SlackApiError, aiohttp.ClientError, OSError) as exc:
        log.warning("digest attachments to %s (thread %s) failed: %s", channel, ts, _error_text(exc))


async def _tell_admins_once(deps: Deps, *, kind: str, period: str, channel: str, error: str) -> None:
    async with unit_of_work(deps.sessions) as session:
        first = await claim_key(session, key=f"digest_failed:{kind}:{period}:{channel}", now=deps.clock.now())
    if not first:
        return
    text = ui.build_admin_failure_text(kind=kind, period=period, channel=channel, error=error, t=deps.t)
    for admin in deps.settings.roles.admins:
        try:
            await deps.slack.chat_postMessage(channel=admin, text=text)
        except (TimeoutError, SlackApiError, aiohttp.ClientError, OSError) as exc:
            log.error("could not tell admin %s about the failed digest: %s", admin, _error_text(exc))


# ---------------------------------------------------------------------------------------------
# The one send path
# ---------------------------------------------------------------------------------------------

Outcome = Literal[
    "posted", "recovered", "already_posted", "busy", "failed", "retry_later", "skipped", "missed"
]


@dataclass(frozen=True, slots=True)
class ChannelResult:
    channel: str
    outcome: Outcome
    message_ts: str | None = None
    error: str | None = None


def channels_for(settings: Settings, kind: PeriodKind) -> tuple[str, ...]:
    return settings.digest.weekly.channels if kind == "weekly" else settings.digest.monthly.channels


def _when_empty(settings: Settings, kind: PeriodKind) -> str:
    return settings.digest.weekly.when_empty if kind == "weekly" else settings.digest.monthly.when_empty


async def send_digest(
    deps: Deps,
    *,
    kind: PeriodKind,
    period: Period,
    take_over: bool = False,
    sleep: Sleep = asyncio.sleep,
    owner: str | None = None,
) -> list[ChannelResult]:
    """Post the ``kind`` digest of ``period`` to each configured channel, at most once each.

    Args:
        take_over: also post where an earlier attempt failed permanently or the period was
            recorded as missed (an admin's ``--post``).
        sleep: the backoff's sleep (tests pass a recorder).
        owner: claim owner id (default: host:pid; tests give each simulated replica its own).

    Returns:
        One result per channel: ``posted``, ``recovered`` (found already posted by a crashed
        run), ``already_posted``, ``busy`` (another replica holds the claim), ``skipped``
        (empty period, config says skip), ``failed`` (permanent error, admins told) or
        ``retry_later`` (transient errors outlasted the retries; the claim expires and the
        next run or catch-up picks it up).
    """
    owner = owner or owner_id()
    label = period.label
    lease = timedelta(seconds=deps.settings.digest.lease_seconds)
    rendered: Rendered | None = None
    results: list[ChannelResult] = []
    for channel in channels_for(deps.settings, kind):
        now = deps.clock.now()
        async with unit_of_work(deps.sessions) as session:
            got = await claim(
                session,
                kind=kind,
                period=label,
                channel=channel,
                now=now,
                lease=lease,
                owner=owner,
                take_over=take_over,
            )
        if got.state in ("posted", "failed", "missed", "skipped"):
            outcome: Outcome = "already_posted" if got.state == "posted" else got.state  # type: ignore[assignment]
            results.append(ChannelResult(channel, outcome, got.message_ts))
            continue
        if got.state == "busy":
            results.append(ChannelResult(channel, "busy"))
            continue
        async with _lease_kept(deps, got.run_id, owner=owner):
            if got.state == "recovering":
                found = await find_posted(
                    deps, kind=kind, period=label, channel=channel, since=got.claimed_at
                )
                if found is not None:
                    await _finish(deps, got.run_id, owner=owner, status="posted", ts=found)
                    log.info(
                        "digest %s %s → %s was already posted (ts %s); recorded", kind, label, channel, found
                    )
                    results.append(ChannelResult(channel, "recovered", found))
                    continue
            if rendered is None:
                rendered = await render(deps, kind=kind, period=period)
            if rendered.empty and _when_empty(deps.settings, kind) == "skip":
                await _finish(deps, got.run_id, owner=owner, status="skipped")
                results.append(ChannelResult(channel, "skipped"))
                continue
            message = rendered.message(deps.settings, channel)
            try:
                ts = await _post(
                    deps,
                    message,
                    channel=channel,
                    kind=kind,
                    period=label,
                    run_id=got.run_id,
                    owner=owner,
                    since=got.claimed_at,
                    sleep=sleep,
                )
            except (TimeoutError, SlackApiError, aiohttp.ClientError, OSError) as exc:
                error = _error_text(exc)
                if _is_transient(exc):
                    # Leave the claim to expire: the next run, catch-up or --post recovers it.
                    await _finish(deps, got.run_id, owner=owner, status="claimed", error=error)
                    log.error(
                        "digest %s %s → %s not posted yet (%s); will retry later", kind, label, channel, error
                    )
                    results.append(ChannelResult(channel, "retry_later", error=error))
                else:
                    await _finish(deps, got.run_id, owner=owner, status="failed", error=error)
                    log.error("digest %s %s → %s failed: %s", kind, label, channel, error)
                    await _tell_admins_once(deps, kind=kind, period=label, channel=channel, error=error)
                    results.append(ChannelResult(channel, "failed", error=error))
                continue
            await _finish(deps, got.run_id, owner=owner, status="posted", ts=ts)
            log.info("digest %s %s posted to %s (ts %s)", kind, label, channel, ts)
            await _upload(deps, channel=channel, ts=ts, uploads=rendered.uploads)
            results.append(ChannelResult(channel, "posted", ts))
    if any(r.outcome == "posted" for r in results):
        refresh_home(deps)  # Homes link the latest digests
    return results


async def record_missed(deps: Deps, *, kind: PeriodKind, period: Period) -> list[str]:
    """Mark (kind, period) as missed in every channel that has no row yet; returns those channels."""
    marked = []
    now = deps.clock.now()
    async with unit_of_work(deps.sessions) as session:
        for channel in channels_for(deps.settings, kind):
            stmt = (
                dialect_insert(session)(DigestRun)
                .values(
                    kind=kind,
                    period=period.label,
                    channel_id=channel,
                    status="missed",
                    attempts=0,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["kind", "period", "channel_id"])
                .returning(DigestRun.id)
            )
            if (await session.execute(stmt)).scalar_one_or_none() is not None:
                marked.append(channel)
    return marked


async def digest_runs(session: AsyncSession, *, kind: str, period: str) -> list[DigestRun]:
    """The claim rows of one digest (for reports and tests)."""
    return list(
        (
            await session.scalars(
                select(DigestRun)
                .where(and_(DigestRun.kind == kind, DigestRun.period == period))
                .order_by(DigestRun.channel_id)
            )
        ).all()
    )


# ---------------------------------------------------------------------------------------------
# Wins
# ---------------------------------------------------------------------------------------------


async def save_win(
    session: AsyncSession,
    *,
    channel_id: str,
    message_ts: str,
    permalink: str | None,
    message_author: str | None,
    what: str,
    kpi_key: str | None,
    nominated_by: str,
    now: datetime,
) -> None:
    """Store a nominated win; the same person nominating the same message again updates it."""
    stmt = dialect_insert(session)(Win).values(
        channel_id=channel_id,
        message_ts=message_ts,
        permalink=permalink,
        message_author=message_author,
        what_happened=what,
        kpi_key=kpi_key,
        nominated_by=nominated_by,
        created_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["channel_id", "message_ts", "nominated_by"],
        set_={"what_happened": what, "kpi_key": kpi_key, "permalink": stmt.excluded.permalink},
    )
    await session.execute(stmt)
