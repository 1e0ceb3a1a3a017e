"""Digest I/O: fetch a period's facts from the store, and post a digest exactly once per channel
(claim row with a lease → post with retries → record the ts → attach files → posted).

``send_digest`` is the one path used by the scheduler job, the retry sweep, the start-up catch-up
and ``sns-bot digest --post``. Exactly-once rests on the ``digest_run`` unique row, not on the
scheduler: whoever inserts (or takes over an expired) claim posts, and stops as soon as an update
finds the claim taken over. A claim whose poster died or failed is taken over later; when a post
may have gone through, this bot's message is looked for (by its metadata and bot id) in the
channel before posting again, and when the channel cannot be read nothing is posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import uuid
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
from bot.digest import notices, ui
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
from bot.errors import BotError
from bot.i18n import translator
from bot.kpi.models import Post
from bot.periods import Period, PeriodKind, months_back
from bot.review.models import ReviewApprover, ReviewEvent, ReviewRequest
from bot.slack.blocks import Message
from bot.slack.client import without_retries
from bot.slack.identity import own_identity

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

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
#: The wait before the next attempt of a digest whose last attempt failed; it doubles with every
#: attempt up to the maximum (the sweep retries within ``[digest] catch_up_days`` of the fire time).
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(minutes=30)


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
    from bot.kpi.queries import kpi_months

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

ClaimState = Literal["claimed", "recovering", "posted", "busy", "waiting", "failed", "missed", "skipped"]


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to "may I post this digest to this channel?"."""

    state: ClaimState
    run_id: int
    claimed_at: datetime
    message_ts: str | None = None
    #: An earlier attempt sent a post that may be in the channel: look there before posting again.
    maybe_posted: bool = False
    #: Attempts of this row so far, this one included (the backoff between attempts grows with it).
    attempts: int = 1
    #: Why the previous attempt did not finish (``waiting``).
    error: str | None = None


@functools.cache
def owner_id() -> str:
    """Who holds a claim: host, process and a random part drawn once per process start.

    ``host:pid`` alone repeats: in a container every start is pid 1 and the host name may be fixed,
    so a restarted bot or a twin replica would pass the ``claimed_by`` checks of another's claim and
    could not tell that its claim was taken over.
    """
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


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

    A new row → ``claimed``. An unfinished claim whose lease ran out (its poster died, or its last
    attempt failed) → taken over as ``recovering`` once its ``retry_at`` has come (``waiting``
    before). A ``failed`` or ``missed`` row is taken over only with ``take_over`` (an admin's
    ``--post``), which also skips the wait.
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
    if row.status == "claimed" and not take_over and row.retry_at is not None and row.retry_at > now:
        return Claim("waiting", row.id, row.created_at, error=row.error)
    # Take over an abandoned (or failed) claim; the conditional UPDATE lets one replica win. (Read
    # the row first: the ORM UPDATE refreshes ``row`` in the session.)
    attempts, ts, maybe_posted = row.attempts + 1, row.message_ts, row.attempted_at is not None
    taken = await session.execute(
        update(DigestRun)
        .where(
            DigestRun.id == row.id,
            DigestRun.status == row.status,
            DigestRun.attempts == row.attempts,
        )
        .values(
            status="claimed",
            claimed_by=owner,
            lease_until=now + lease,
            attempts=attempts,
            retry_at=None,
        )
    )
    if getattr(taken, "rowcount", 0) != 1:
        return Claim("busy", row.id, row.created_at)
    return Claim("recovering", row.id, row.created_at, ts, maybe_posted=maybe_posted, attempts=attempts)


@dataclass(slots=True)
class _Hold:
    """This process's hold on one claim row while it works on it."""

    run_id: int
    owner: str
    kind: PeriodKind
    period: str
    channel: str
    #: Another process took the claim over: post nothing more, record nothing.
    lost: bool = False
    #: An attempt of this send got an answer that may hide a post that went through.
    ambiguous: bool = False
    #: Tell the admins when the digest is late (and then when it went out).
    tell: bool = True

    def __str__(self) -> str:
        return f"digest {self.kind} {self.period} → {self.channel}"


class ClaimLost(Exception):
    """The claim was taken over by another process (an update found it no longer ours)."""


async def _update_held(deps: Deps, hold: _Hold, **values: Any) -> bool:
    """Write ``values`` to the claim row if this process still holds it.

    Returns:
        False when another process has taken the claim over (its lease ran out: this process was
        too slow or could not renew it); ``hold.lost`` is set and the caller must stop.
    """
    if hold.lost:
        return False
    async with unit_of_work(deps.sessions) as session:
        result = await session.execute(
            update(DigestRun)
            .where(
                DigestRun.id == hold.run_id,
                DigestRun.claimed_by == hold.owner,
                DigestRun.status == "claimed",
            )
            .values(values)
        )
    if getattr(result, "rowcount", 0) == 1:
        return True
    hold.lost = True
    log.warning("%s: the claim was taken over by another process; this one stops", hold)
    return False


def _lease_end(deps: Deps) -> datetime:
    return deps.clock.now() + timedelta(seconds=deps.settings.digest.lease_seconds)


async def _extend_lease(deps: Deps, hold: _Hold) -> bool:
    return await _update_held(deps, hold, lease_until=_lease_end(deps))


async def _mark_attempt(deps: Deps, hold: _Hold) -> bool:
    """Right before a chat.postMessage: confirm the claim, renew its lease and note (first, so a
    crash cannot hide it) that a post may be in the channel from now on."""
    return await _update_held(deps, hold, lease_until=_lease_end(deps), attempted_at=deps.clock.now())


async def _record_ts(deps: Deps, hold: _Hold, ts: str) -> bool:
    """The post is in the channel: keep its ts (the row stays ``claimed`` until the attachments are
    there too, so a crash before them is picked up again)."""
    return await _update_held(
        deps, hold, message_ts=ts, posted_at=deps.clock.now(), error=None, lease_until=_lease_end(deps)
    )


async def _finish(
    deps: Deps,
    hold: _Hold,
    *,
    status: str,
    error: str | None = None,
    retry_at: datetime | None = None,
    sure_not_posted: bool = False,
) -> bool:
    """End this process's work on the claim: ``posted``/``skipped``/``failed``, or ``claimed`` again
    with ``retry_at`` (the sweep or the next run takes it over then). False: the claim was lost."""
    values: dict[str, Any] = {"status": status, "error": error, "lease_until": None, "retry_at": retry_at}
    if sure_not_posted:
        values["attempted_at"] = None  # every attempt was refused: nothing can be in the channel
    return await _update_held(deps, hold, **values)


def retry_delay(attempts: int) -> timedelta:
    """How long an unfinished digest waits before its next attempt: 1, 2, 4, … minutes, at most 30."""
    return min(RETRY_MAX, RETRY_FIRST * 2 ** max(0, attempts - 1))


@contextlib.asynccontextmanager
async def _lease_kept(deps: Deps, hold: _Hold) -> AsyncIterator[None]:
    """Renew the claim's lease every third of it while this process works on the claim.

    The lease tells a live poster from a dead one. A Slack answer, a chart render or the backoff can
    take longer than the lease (10 s at the least); without renewal another replica would take over a
    claim whose post is still in flight and post the digest a second time. Renewal stops with the
    process, so a crashed poster's claim still expires; it also stops once the claim was found taken
    over (then ``hold.lost`` stops the poster before its next post).
    """
    interval = deps.settings.digest.lease_seconds / 3

    async def renew() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                if not await _extend_lease(deps, hold):
                    return
            except BotError as exc:  # the database is away: keep trying while the work goes on
                log.warning("digest claim %d: lease not renewed: %s", hold.run_id, exc.key)

    renewing = asyncio.create_task(renew(), name=f"digest-lease-{hold.run_id}")
    try:
        yield
    finally:
        renewing.cancel()
        await asyncio.gather(renewing, return_exceptions=True)


# ---------------------------------------------------------------------------------------------
# Slack
# ---------------------------------------------------------------------------------------------

_SLACK_ERRORS = (TimeoutError, SlackApiError, aiohttp.ClientError, OSError)


class Unverifiable(Exception):
    """The channel cannot be read (``not_in_channel``, ``channel_not_found``, a missing scope, …), so
    whether an earlier post went through cannot be told: posting again could double the digest."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


async def _readable(call: Awaitable[Any]) -> Any:
    """Await a read from Slack; a refusal that retrying will not fix becomes :class:`Unverifiable`."""
    try:
        return await call
    except SlackApiError as exc:
        if _is_transient(exc):
            raise
        raise Unverifiable(_error_text(exc)) from exc


async def find_posted(deps: Deps, *, kind: str, period: str, channel: str, since: datetime) -> str | None:
    """The ts of this bot's digest post already in ``channel``, if any.

    Matched by its metadata *and* this bot's ``bot_id``: anyone in the channel can read the metadata
    and post a message that carries it, and taking theirs for ours would never post the digest.

    Raises:
        Unverifiable: the channel (or this bot's identity) cannot be read.
        SlackApiError, aiohttp.ClientError, TimeoutError, OSError: transient failures.
    """
    me = await _readable(own_identity(deps.slack))
    cursor: str | None = None
    oldest = f"{(since - RECOVERY_MARGIN).timestamp():.6f}"
    for _page in range(20):  # a digest is found near the claim time; never page through a whole channel
        response = await _readable(
            deps.slack.conversations_history(
                channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
            )
        )
        for message in response.get("messages") or []:
            if me.posted(message) and is_digest_message(message, kind=kind, period=period, channel=channel):
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
    if isinstance(exc, Unverifiable):
        return exc.error
    return type(exc).__name__


def _may_have_posted(exc: Exception) -> bool:
    """A 429 was refused before anything happened; a 5xx, a lost connection or a transient
    ``ok: false`` (``fatal_error`` may have done part of the work) may have posted."""
    if isinstance(exc, SlackApiError):
        return getattr(exc.response, "status_code", 200) != 429
    return True


async def _post(
    deps: Deps,
    message: Message,
    *,
    hold: _Hold,
    since: datetime,
    look_first: bool,
    sleep: Sleep,
) -> tuple[str, bool]:
    """Post with backoff on 429/5xx/network errors; returns ``(ts, found)``, ``found`` when the post
    was in the channel before this call sent any (an earlier attempt went through). A post of this
    call found after an answer that hid it counts as posted.

    Before every post the claim is confirmed (and marked as attempted). After an answer that may
    hide a successful post, and first of all with ``look_first``, the channel is searched before
    posting again; a failed search is retried like a failed post, never skipped.

    Raises:
        ClaimLost: another process took the claim over; nothing more was posted.
        Unverifiable: the channel cannot be read, so a post may or may not be there.
        SlackApiError etc.: a permanent refusal at once, or the last transient error when the
            attempts ran out.
    """
    # Our own loop retries, checking the channel first; the SDK's blind retries would double-post.
    poster = without_retries(deps.slack)
    look = look_first
    sent = False
    last: Exception | None = None
    for attempt in range(POST_ATTEMPTS):
        if last is not None:
            delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
            log.warning("%s: %s; retrying in %.0fs", hold, _error_text(last), delay)
            await sleep(delay)
        if look:
            try:
                found = await find_posted(
                    deps, kind=hold.kind, period=hold.period, channel=hold.channel, since=since
                )
            except _SLACK_ERRORS as exc:
                if not _is_transient(exc):
                    raise
                last = exc
                continue
            if found is not None:
                return found, not sent
            look = False
        if not await _mark_attempt(deps, hold):
            raise ClaimLost
        sent = True
        try:
            response = await poster.chat_postMessage(channel=hold.channel, **message.kwargs())
            return str(response["ts"]), False
        except _SLACK_ERRORS as exc:
            if not _is_transient(exc):
                raise
            last = exc
            look = _may_have_posted(exc)
            hold.ambiguous = hold.ambiguous or look
    assert last is not None
    raise last


async def _files_in_thread(deps: Deps, *, channel: str, ts: str) -> set[str]:
    """Names of the files this bot already shared in the digest's thread."""
    me = await _readable(own_identity(deps.slack))
    response = await _readable(deps.slack.conversations_replies(channel=channel, ts=ts, limit=200))
    names: set[str] = set()
    for message in response.get("messages") or []:
        if message.get("ts") != ts and me.shared(message):
            names.update(str(f.get("name")) for f in message.get("files") or [] if isinstance(f, dict))
    return names


async def _attach(deps: Deps, *, channel: str, ts: str, uploads: Sequence[Upload], look: bool) -> None:
    """Share the chart and CSV in the digest's thread; with ``look`` (a digest found after a crash, or
    attachments retried), only those this bot has not shared there yet.

    Raises:
        Unverifiable, SlackApiError etc.: the caller retries later or gives up.
    """
    if look:
        present = await _files_in_thread(deps, channel=channel, ts=ts)
        uploads = [u for u in uploads if u.filename not in present]
    if not uploads:
        return
    await deps.slack.files_upload_v2(
        channel=channel,
        thread_ts=ts,
        file_uploads=[{"content": u.content, "filename": u.filename, "title": u.title} for u in uploads],
    )


# ---------------------------------------------------------------------------------------------
# The one send path
# ---------------------------------------------------------------------------------------------

Outcome = Literal[
    "posted",
    "recovered",
    "already_posted",
    "busy",
    "failed",
    "retry_later",
    "unverified",
    "lost",
    "skipped",
    "missed",
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
    sleep: Sleep | None = None,
    owner: str | None = None,
) -> list[ChannelResult]:
    """Post the ``kind`` digest of ``period`` to each configured channel, at most once each.

    Args:
        take_over: also post where an earlier attempt failed permanently or the period was
            recorded as missed, and without waiting for a failed attempt's backoff (an admin's
            ``--post``).
        sleep: the backoff's sleep (default: the clock's).
        owner: claim owner id (default: :func:`owner_id`; tests give each simulated replica its own).

    Returns:
        One result per channel: ``posted``, ``recovered`` (found already posted by an earlier
        attempt), ``already_posted``, ``busy`` (another process holds the claim), ``skipped``
        (empty period, config says skip), ``failed`` (permanent error, admins told),
        ``retry_later`` (transient errors outlasted the retries, or the backoff of an earlier failure
        is still running; the sweep retries), ``unverified`` (a post may be in the channel but the
        channel cannot be read; nothing posted, the sweep looks again, admins told) or ``lost``
        (another process took the claim over while this one worked; this one stopped).
    """
    owner = owner or owner_id()
    sleep = sleep or deps.clock.sleep
    label = period.label
    lease = timedelta(seconds=deps.settings.digest.lease_seconds)
    rendered: list[Rendered] = []  # rendered at most once, for the first channel that needs it
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
        if got.state == "waiting":
            results.append(ChannelResult(channel, "retry_later", error=got.error))
            continue
        # An admin's --post reads its outcome on the terminal: no "late" DMs for it.
        hold = _Hold(got.run_id, owner, kind, label, channel, tell=not take_over)
        async with _lease_kept(deps, hold):
            results.append(await _deliver(deps, hold, got, period=period, rendered=rendered, sleep=sleep))
    if any(r.outcome in ("posted", "recovered") for r in results):
        deps.home.refresh()  # Homes link the latest digests
    return results


async def _deliver(
    deps: Deps, hold: _Hold, got: Claim, *, period: Period, rendered: list[Rendered], sleep: Sleep
) -> ChannelResult:
    """Everything after the claim for one channel: post (or find) the message, record it, attach the
    files, finish the row; on failure leave it for a later attempt or mark it failed."""
    kind, label, channel = hold.kind, hold.period, hold.channel

    async def digest() -> Rendered:
        if not rendered:
            rendered.append(await render(deps, kind=kind, period=period))
        return rendered[0]

    ts, found = got.message_ts, got.message_ts is not None
    try:
        if ts is None:
            doc = await digest()
            if doc.empty and _when_empty(deps.settings, kind) == "skip" and not got.maybe_posted:
                if not await _finish(deps, hold, status="skipped", sure_not_posted=True):
                    return ChannelResult(channel, "lost")
                return ChannelResult(channel, "skipped")
            ts, found = await _post(
                deps,
                doc.message(deps.settings, channel),
                hold=hold,
                since=got.claimed_at,
                look_first=got.maybe_posted,
                sleep=sleep,
            )
            if not await _record_ts(deps, hold, ts):
                # The new owner finds this message in the channel (by its metadata) and records it.
                log.warning(
                    "%s: posted (ts %s) after the claim was taken over; left to the new owner", hold, ts
                )
                return ChannelResult(channel, "lost", ts)
            if found:
                log.info("digest %s %s → %s was already posted (ts %s); recorded", kind, label, channel, ts)
            else:
                log.info("digest %s %s posted to %s (ts %s)", kind, label, channel, ts)
        await notices.tell_out_if_late(deps, kind=kind, period=label, channel=channel, found=found)
        outcome: Outcome = "recovered" if found else "posted"
        uploads = (await digest()).uploads if kind == "monthly" else ()
        if uploads:
            try:
                await _attach(deps, channel=channel, ts=ts, uploads=uploads, look=found)
            except (Unverifiable, *_SLACK_ERRORS) as exc:
                error = f"files: {_error_text(exc)}"
                if isinstance(exc, Unverifiable) or not _is_transient(exc):
                    log.warning("%s: attachments not shared (thread %s): %s", hold, ts, error)
                    if not await _finish(deps, hold, status="posted", error=error):
                        return ChannelResult(channel, "lost", ts)
                    return ChannelResult(channel, outcome, ts, error)
                retry_at = deps.clock.now() + retry_delay(got.attempts)
                log.warning("%s: attachments not shared yet (%s); retrying at %s", hold, error, retry_at)
                if not await _finish(deps, hold, status="claimed", error=error, retry_at=retry_at):
                    return ChannelResult(channel, "lost", ts)
                return ChannelResult(channel, outcome, ts, error)
        if not await _finish(deps, hold, status="posted"):
            return ChannelResult(channel, "lost", ts)
        return ChannelResult(channel, outcome, ts)
    except ClaimLost:
        return ChannelResult(channel, "lost")
    except Unverifiable as exc:
        # A post may be in the channel, but the channel cannot be read: posting again could double
        # the digest, and calling it failed could be untrue. Keep the claim open, look again later
        # (inviting the bot, or a restored scope, lets the look succeed), and tell the admins.
        log.error("%s: cannot check whether it is already posted (%s); not posting", hold, exc.error)
        if hold.tell and not hold.lost:  # told while the claim is ours: the next holder sees it
            await notices.tell_late(
                deps, kind=kind, period=label, channel=channel, error=exc.error, unverified=True
            )
        retry_at = deps.clock.now() + retry_delay(got.attempts)
        if not await _finish(deps, hold, status="claimed", error=exc.error, retry_at=retry_at):
            return ChannelResult(channel, "lost")
        return ChannelResult(channel, "unverified", error=exc.error)
    except _SLACK_ERRORS as exc:
        error = _error_text(exc)
        if _is_transient(exc):
            if hold.tell and not hold.lost:  # told while the claim is ours: the next holder sees it
                await notices.tell_late(deps, kind=kind, period=label, channel=channel, error=error)
            retry_at = deps.clock.now() + retry_delay(got.attempts)
            if not await _finish(
                deps,
                hold,
                status="claimed",
                error=error,
                retry_at=retry_at,
                sure_not_posted=not (got.maybe_posted or hold.ambiguous),
            ):
                return ChannelResult(channel, "lost")
            log.error("%s not posted yet (%s); next attempt at %s", hold, error, retry_at.isoformat())
            return ChannelResult(channel, "retry_later", error=error)
        if not await _finish(
            deps, hold, status="failed", error=error, sure_not_posted=not (got.maybe_posted or hold.ambiguous)
        ):
            return ChannelResult(channel, "lost")
        log.error("digest %s %s → %s failed: %s", kind, label, channel, error)
        await notices.tell_failed(deps, kind=kind, period=label, channel=channel, error=error)
        return ChannelResult(channel, "failed", error=error)


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


async def due_runs(session: AsyncSession, *, now: datetime) -> list[tuple[str, str, str]]:
    """(kind, period, channel) of every unfinished claim another attempt may take over now: its
    lease ran out (the poster died, or released it after a failed attempt) and its backoff is over."""
    rows = await session.execute(
        select(DigestRun.kind, DigestRun.period, DigestRun.channel_id)
        .where(
            DigestRun.status == "claimed",
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
