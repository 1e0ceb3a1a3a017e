"""The claim row that makes posting a digest exactly-once per channel: take it (or say why not),
keep its lease while working, write to it only while it is still ours, finish it; record periods
missed beyond the catch-up window (I/O: the store).

Whoever inserts (or takes over an expired) claim posts, and stops as soon as an update finds the
claim taken over by another process. A claim whose poster died or failed is taken over later.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import dialect_insert, unit_of_work
from bot.digest.models import DigestRun, RunStatus
from bot.digest.schedule import channels_for
from bot.errors import BotError
from bot.periods import Period, PeriodKind

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

#: The wait before the next attempt of a digest whose last attempt failed; it doubles with every
#: attempt up to the maximum (the sweep retries within ``[digest] catch_up_days`` of the fire time).
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(minutes=30)


class ClaimState(StrEnum):
    """The answer of :func:`claim`: post (``claimed``, ``recovering``), or why not."""

    #: A new row: this process posts.
    CLAIMED = "claimed"
    #: An abandoned or failed claim taken over: this process posts (looking first if need be).
    RECOVERING = "recovering"
    POSTED = "posted"
    #: Another process holds the claim.
    BUSY = "busy"
    #: The last attempt failed and its backoff is still running.
    WAITING = "waiting"
    FAILED = "failed"
    MISSED = "missed"
    SKIPPED = "skipped"


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
        "status": RunStatus.CLAIMED,
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
        return Claim(ClaimState.CLAIMED, inserted, now)
    row = (
        await session.execute(
            select(DigestRun).where(
                DigestRun.kind == kind, DigestRun.period == period, DigestRun.channel_id == channel
            )
        )
    ).scalar_one()
    done = row.status in (RunStatus.POSTED, RunStatus.SKIPPED)
    if done or (row.status in (RunStatus.FAILED, RunStatus.MISSED) and not take_over):
        return Claim(ClaimState(row.status), row.id, row.created_at, row.message_ts)
    if row.status == RunStatus.CLAIMED and row.lease_until is not None and row.lease_until > now:
        return Claim(ClaimState.BUSY, row.id, row.created_at)
    if row.status == RunStatus.CLAIMED and not take_over and row.retry_at is not None and row.retry_at > now:
        return Claim(ClaimState.WAITING, row.id, row.created_at, error=row.error)
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
            status=RunStatus.CLAIMED,
            claimed_by=owner,
            lease_until=now + lease,
            attempts=attempts,
            retry_at=None,
        )
    )
    if getattr(taken, "rowcount", 0) != 1:
        return Claim(ClaimState.BUSY, row.id, row.created_at)
    return Claim(
        ClaimState.RECOVERING, row.id, row.created_at, ts, maybe_posted=maybe_posted, attempts=attempts
    )


@dataclass(slots=True)
class Hold:
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


async def _update_held(deps: Deps, hold: Hold, **values: Any) -> bool:
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
                DigestRun.status == RunStatus.CLAIMED,
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


async def extend_lease(deps: Deps, hold: Hold) -> bool:
    return await _update_held(deps, hold, lease_until=_lease_end(deps))


async def mark_attempt(deps: Deps, hold: Hold) -> bool:
    """Right before a chat.postMessage: confirm the claim, renew its lease and note (first, so a
    crash cannot hide it) that a post may be in the channel from now on."""
    return await _update_held(deps, hold, lease_until=_lease_end(deps), attempted_at=deps.clock.now())


async def record_ts(deps: Deps, hold: Hold, ts: str) -> bool:
    """The post is in the channel: keep its ts (the row stays ``claimed`` until the attachments are
    there too, so a crash before them is picked up again)."""
    return await _update_held(
        deps, hold, message_ts=ts, posted_at=deps.clock.now(), error=None, lease_until=_lease_end(deps)
    )


async def finish(
    deps: Deps,
    hold: Hold,
    *,
    status: RunStatus,
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
    # Doubling stops at the cap: a digest retried for a day reaches 42 attempts, and 2 ** 41 minutes
    # is more than a timedelta holds (OverflowError).
    delay = RETRY_FIRST
    for _ in range(1, attempts):
        if delay >= RETRY_MAX:
            break
        delay *= 2
    return min(RETRY_MAX, delay)


@contextlib.asynccontextmanager
async def lease_kept(deps: Deps, hold: Hold) -> AsyncIterator[None]:
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
                if not await extend_lease(deps, hold):
                    return
            except BotError as exc:  # the database is away: keep trying while the work goes on
                log.warning("digest claim %d: lease not renewed: %s", hold.run_id, exc.key)

    renewing = asyncio.create_task(renew(), name=f"digest-lease-{hold.run_id}")
    try:
        yield
    finally:
        renewing.cancel()
        await asyncio.gather(renewing, return_exceptions=True)


async def record_missed(deps: Deps, *, kind: PeriodKind, period: Period) -> list[str]:
    """Mark (kind, period) as missed in every channel that has no row yet; returns those channels."""
    marked: list[str] = []
    now = deps.clock.now()
    async with unit_of_work(deps.sessions) as session:
        for channel in channels_for(deps.settings, kind):
            stmt = (
                dialect_insert(session)(DigestRun)
                .values(
                    kind=kind,
                    period=period.label,
                    channel_id=channel,
                    status=RunStatus.MISSED,
                    attempts=0,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["kind", "period", "channel_id"])
                .returning(DigestRun.id)
            )
            if (await session.execute(stmt)).scalar_one_or_none() is not None:
                marked.append(channel)
    return marked
