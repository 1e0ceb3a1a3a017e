"""Slack work owed for changes already stored, delivered after the ack and retried until done
(I/O: the store; the deliveries themselves are the features' own).

A feature writes an item in the same transaction as its change (:func:`enqueue`), so a stored
decision always has its channel update, thread reply and DM owed. After the ack it delivers at once
(:meth:`Outbox.deliver`); when Slack fails past the client's retries the item stays ``pending`` and
the sweep (:meth:`Outbox.sweep`, a scheduler job in every replica) tries again with backoff. Every
delivery step must be safe to repeat: a feature records the steps it finished in ``done`` so a
retry skips them, and posts through ``post_once`` with a key derived from the item.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, MutableSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import db
from bot.clock import Clock
from bot.errors import BotError
from bot.slack.models import OutboxItem

log = logging.getLogger(__name__)

#: What a delivery gets: the item's payload and the names of the steps already done (it adds to them).
Deliver = Callable[[dict[str, Any], MutableSet[str]], Awaitable[None]]

#: The sweep leaves an item alone this long after it was written: the listener is delivering it.
FIRST_TRY_GRACE = timedelta(minutes=3)
BACKOFF_START = timedelta(minutes=1)
BACKOFF_MAX = timedelta(minutes=30)
#: Owed work older than this is given up (logged as an error): the person has long acted otherwise.
GIVE_UP_AFTER = timedelta(days=3)
#: Done items are kept this long for the record, then deleted by the sweep.
KEEP_DONE = timedelta(days=7)
SWEEP_BATCH = 50
#: Slack errors that no retry will fix.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "invalid_blocks",
        "msg_too_long",
        "no_permission",
        "user_not_found",
        "cannot_dm_bot",
    }
)
_DONE_KEY = "_done"


class DeliveryFailed(Exception):
    """A delivery step failed; raised by features only to add context to the log line."""


async def enqueue(
    session: AsyncSession, *, kind: str, key: str, payload: dict[str, Any], now: datetime
) -> Owed:
    """Owe ``kind`` work described by ``payload`` (JSON), in the caller's transaction; ``key`` is unique
    (a second enqueue of the same key is ignored). Returns the item, for :meth:`Outbox.deliver`
    right after the caller's ack."""
    key = key[:200]
    insert = db.dialect_insert(session)
    await session.execute(
        insert(OutboxItem)
        .values(
            key=key,
            kind=kind,
            payload=payload,
            status="pending",
            attempts=0,
            next_attempt_at=now + FIRST_TRY_GRACE,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return Owed(key, kind, payload, now)


def _backoff(attempts: int) -> timedelta:
    # The doubling stops at the cap: 2**n minutes overflows a timedelta past n = 40 or so, and an
    # item retried for 3 days reaches ~150 attempts. (int ** int is typed Any: a negative power is a float.)
    factor: int = 2 ** min(max(0, attempts - 1), 10)
    return min(BACKOFF_MAX, BACKOFF_START * factor)


def _permanent(exc: BaseException) -> bool:
    if isinstance(exc, SlackApiError) and isinstance(exc.response.data, dict):
        return exc.response.data.get("error") in PERMANENT
    return False


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and isinstance(exc.response.data, dict):
        return str(exc.response.data.get("error") or exc.response.status_code)
    return type(exc).__name__


#: What a delivery may fail with and still be retried later (anything else is a bug: logged, kept).
FAILURES = (SlackApiError, aiohttp.ClientError, TimeoutError, OSError, BotError, DeliveryFailed)


@dataclass(frozen=True, slots=True)
class SweepReport:
    delivered: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Owed:
    """One item of owed work as a delivery sees it (from the listener that wrote it, or the store)."""

    key: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int = 0
    #: Picked up by the sweep: an earlier try (or a process that died after it) may have done steps.
    swept: bool = False

    @classmethod
    def of(cls, row: OutboxItem) -> Owed:
        return cls(row.key, row.kind, dict(row.payload), row.created_at, row.attempts, swept=True)


#: In ``done`` when the item was picked up by the sweep: look before posting anything again.
MAYBE_DONE = "?"


class Outbox:
    """The process's outbox: features register a delivery per kind; the listener delivers at once and
    the sweep catches up.

    Delivered items are marked done by one writer task at a time (a group commit): items delivered
    while it waits for the store join its next write, so under a burst of submissions a few write
    transactions mark them all instead of one each, and the work after an ack does not queue for
    SQLite's writer lock behind the next submissions. Until then the sweep leaves them alone
    (:data:`FIRST_TRY_GRACE`); if the process dies first, the sweep delivers them again, looking
    before posting (:data:`MAYBE_DONE`).
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        track: Callable[[Callable[[], Coroutine[Any, Any, None]]], Callable[[], Coroutine[Any, Any, None]]]
        | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._track = track or (lambda func: func)
        self._deliveries: dict[str, Deliver] = {}
        self._done: list[str] = []
        self._flushing: asyncio.Task[None] | None = None

    def register(self, kind: str, deliver: Deliver) -> None:
        self._deliveries[kind] = deliver

    async def deliver(self, owed: Owed) -> bool:
        """Deliver ``owed`` now (right after the ack of the change that wrote it); False when Slack
        failed and the sweep will retry it."""
        return await self._run(owed)

    async def _run(self, item: Owed) -> bool:
        payload = dict(item.payload)
        done: set[str] = set(payload.pop(_DONE_KEY, []))
        if item.swept:
            done.add(MAYBE_DONE)
        deliver = self._deliveries.get(item.kind)
        if deliver is None:
            log.error("outbox %s: no delivery for kind %s", item.key, item.kind)
            return False
        try:
            await deliver(payload, done)
        except FAILURES as exc:
            done.discard(MAYBE_DONE)
            await self._failed(item, payload, done, exc)
            return False
        self._mark_done(item.key)
        if item.attempts:
            log.info("outbox %s delivered after %d attempt(s)", item.key, item.attempts + 1)
        return True

    def _mark_done(self, key: str) -> None:
        self._done.append(key)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(
                self._track(self._flush_later)(), name="outbox-done"
            )

    async def _flush_later(self) -> None:
        await asyncio.sleep(0)  # deliveries finishing in the same turn of the loop join this write
        await self.flush()

    async def flush(self) -> None:
        """Mark every delivered item done now (the batch writer; also at shutdown and before a sweep)."""
        while self._done:
            keys, self._done = self._done, []
            try:
                async with db.unit_of_work(self._sessions, write=True) as session:
                    await session.execute(
                        update(OutboxItem)
                        .where(OutboxItem.key.in_(keys), OutboxItem.status == "pending")
                        .values(status="done", done_at=self._clock.now(), last_error=None)
                    )
            except BotError as exc:  # the store is away: the sweep delivers them again, looking first
                log.warning("outbox: %d delivered item(s) not marked done: %s", len(keys), exc.key)
                return

    async def _failed(self, item: Owed, payload: dict[str, Any], done: set[str], exc: BaseException) -> None:
        now = self._clock.now()
        attempts = item.attempts + 1
        error = _describe(exc)
        give_up = _permanent(exc) or now - item.created_at >= GIVE_UP_AFTER
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_error": error[:500],
            "payload": {**payload, _DONE_KEY: sorted(done)},
            "next_attempt_at": now + _backoff(attempts),
        }
        if give_up:
            values["status"] = "failed"
            log.error("outbox %s (%s) given up after %d attempt(s): %s", item.key, item.kind, attempts, error)
        else:
            log.warning(
                "outbox %s (%s) not delivered (%s); retrying in %s",
                item.key,
                item.kind,
                error,
                _backoff(attempts),
            )
        try:
            async with db.unit_of_work(self._sessions, write=True) as session:
                await session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.key == item.key, OutboxItem.status == "pending")
                    .values(values)
                )
        except BotError as db_error:  # the store is away too: the item stays as it was, due again
            log.warning("outbox %s: could not record the failure: %s", item.key, db_error.key)

    async def _claim_due(self) -> list[OutboxItem]:
        """Due items, each claimed by pushing its next attempt out (one replica wins each)."""
        now = self._clock.now()
        async with db.unit_of_work(self._sessions) as session:
            due = (
                (
                    await session.execute(
                        select(OutboxItem)
                        .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now)
                        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                        .limit(SWEEP_BATCH)
                    )
                )
                .scalars()
                .all()
            )
        claimed = []
        for item in due:
            async with db.unit_of_work(self._sessions, write=True) as session:
                taken = await session.execute(
                    update(OutboxItem)
                    .where(
                        OutboxItem.id == item.id,
                        OutboxItem.status == "pending",
                        OutboxItem.next_attempt_at == item.next_attempt_at,
                    )
                    .values(next_attempt_at=now + FIRST_TRY_GRACE)
                )
            if getattr(taken, "rowcount", 0) == 1:
                claimed.append(item)
        return claimed

    async def sweep(self) -> SweepReport:
        """Deliver every due item, then forget done items older than :data:`KEEP_DONE`."""
        report = SweepReport()
        try:
            await self.flush()
            items = await self._claim_due()
        except BotError as exc:
            log.warning("outbox sweep skipped: %s", exc.key)
            return report
        for item in items:
            ok = await self._run(Owed.of(item))
            (report.delivered if ok else report.retrying).append(item.key)
        async with db.unit_of_work(self._sessions, write=True) as session:
            await session.execute(
                delete(OutboxItem).where(
                    OutboxItem.status == "done", OutboxItem.done_at < self._clock.now() - KEEP_DONE
                )
            )
        return report

    async def pending(self) -> list[OutboxItem]:
        """Items still owed (for tests and reports)."""
        async with db.unit_of_work(self._sessions) as session:
            return list(
                (await session.execute(select(OutboxItem).where(OutboxItem.status == "pending"))).scalars()
            )


async def run_sweep(outbox: Outbox) -> None:
    """The scheduler job: one sweep; a failure is logged, the next run tries again."""
    try:
        report = await outbox.sweep()
    except asyncio.CancelledError:
        raise
    except BotError as exc:
        log.warning("outbox sweep failed: %s", exc.key)
        return
    if report.delivered or report.retrying:
        log.info("outbox sweep: %d delivered, %d to retry", len(report.delivered), len(report.retrying))
