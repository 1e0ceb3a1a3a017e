"""Exactly-once keys: a delivery or one-time action is claimed by inserting its key, and keys are pruned
once they can no longer matter (I/O: the store; the ORM of ``processed_key`` lives here too)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Index, String, and_, delete, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot import db
from bot.db import Base, UTCDateTime

log = logging.getLogger(__name__)


class ProcessedKey(Base):
    """A delivery or one-time action that has been handled (Events API ``event_id``, a modal's
    submission key, "admins were told about X"). Inserting the same key twice fails on the primary
    key, which is the whole point."""

    __tablename__ = "processed_key"
    # The daily prune (bot.keys.prune_keys) walks old rows by time.
    __table_args__ = (Index("ix_processed_key_created_at", "created_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def event_key(event_id: str) -> str:
    """The exactly-once key of one Events API delivery (its ``event_id``)."""
    return f"event:{event_id}"


async def claim_key(session: AsyncSession, *, key: str, now: datetime) -> bool:
    """Insert ``key``; True when this call claimed it, False when it was claimed before.

    Uses ``INSERT … ON CONFLICT DO NOTHING`` so a concurrent duplicate neither raises nor
    aborts the surrounding transaction (PostgreSQL aborts a transaction on a unique violation).
    """
    insert = db.dialect_insert(session)
    stmt = (
        insert(ProcessedKey)
        .values(key=key[:200], created_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


#: How long each kind of key can still have an effect, by prefix (the first that matches wins);
#: ``None`` keeps it. A kind not listed here is kept: pruning must never let a second effect through.
RETENTION: tuple[tuple[str, timedelta | None], ...] = (
    # Events API: Slack redelivers an event 3 times within about 5 minutes of a failed answer.
    ("event:", timedelta(days=1)),
    # One modal, one effect: double clicks and Slack's retries of a submission come within seconds,
    # and a view id is never submitted again once its modal has closed.
    ("review:view:", timedelta(days=1)),
    ("home:kpi_view:", timedelta(days=1)),
    ("actions:view:", timedelta(days=1)),
    # Reminders and escalations: the request's counters move on in the same transaction, so the key
    # only guards against sweeps running at the same moment (replicas).
    ("review:", timedelta(days=30)),
    # Admins' notes about one digest (failed, late, unverified, finally out: bot.digest.notices):
    # once per period and channel, and "out" is only sent after a "late"; a digest is retried until
    # posted and an admin may post an old period on demand, so keep them for a year and a month.
    ("digest_", timedelta(days=400)),
    # A month's pace check (bot.pace): it only ever runs on that month's alert day (or a catch-up
    # day after it, in the same month).
    ("pace:", timedelta(days=400)),
    # The day's KPI milestone check (bot.milestones): the key names the day, which never comes back.
    ("milestones:kpi:", timedelta(days=2)),
    # "Admins were told this platform token is refused": one row per token ever refused, kept, so a
    # token that stays broken is not reported again every day.
    ("kpi.collector.auth:", None),
)


def retention_of(key: str) -> timedelta | None:
    """How long ``key`` is kept (``None``: for good)."""
    return next((keep for prefix, keep in RETENTION if key.startswith(prefix)), None)


async def prune_keys(session: AsyncSession, *, now: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` keys that can no longer matter (see :data:`RETENTION`); how many."""
    doomed: list[ColumnElement[bool]] = []
    for index, (prefix, keep) in enumerate(RETENTION):
        if keep is None:
            continue
        # Kinds listed earlier whose prefix extends this one are theirs ("review:view:" vs "review:").
        narrower = [p for p, _ in RETENTION[:index] if p.startswith(prefix)]
        doomed.append(
            and_(
                ProcessedKey.created_at < now - keep,
                ProcessedKey.key.startswith(prefix, autoescape=True),
                *(not_(ProcessedKey.key.startswith(p, autoescape=True)) for p in narrower),
            )
        )
    batch = select(ProcessedKey.key).where(or_(*doomed)).order_by(ProcessedKey.created_at).limit(limit)
    result = await session.execute(delete(ProcessedKey).where(ProcessedKey.key.in_(batch.scalar_subquery())))
    return int(getattr(result, "rowcount", 0) or 0)
