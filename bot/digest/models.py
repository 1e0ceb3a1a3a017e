"""ORM for digests: one claim row per (kind, period, channel) makes posting exactly-once; nominated wins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class RunStatus(StrEnum):
    """What ``digest_run.status`` stores."""

    #: Not finished: being posted, or waiting for its next attempt.
    CLAIMED = "claimed"
    POSTED = "posted"
    #: Permanently (the admins were told).
    FAILED = "failed"
    #: Beyond the catch-up window.
    MISSED = "missed"
    #: An empty period, and the config says to skip those.
    SKIPPED = "skipped"


class DigestRun(Base):
    """The claim, and then the record, of one digest post.

    Inserted with a lease before posting (the unique constraint lets one replica win); the
    message ts is recorded as soon as the post is known, and the row becomes ``posted`` once the
    thread's attachments are there too. A claim whose lease ran out (its poster died) or whose
    ``retry_at`` came (its last attempt failed) is taken over: by the periodic sweep, the next
    scheduled run, the start-up catch-up or an admin's ``--post``. Without a ts, the new owner looks
    for the message in the channel first when ``attempted_at`` says a post may have gone through.
    """

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("kind", "period", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(10))
    channel_id: Mapped[str] = mapped_column(String(40))
    #: A :class:`RunStatus` value.
    status: Mapped[str] = mapped_column(String(10))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_ts: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: An unfinished claim is not taken over before this (backoff between attempts; an admin's
    #: ``--post`` does not wait).
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Written *before* each chat.postMessage: a post for this row may be in the channel, so whoever
    #: takes the claim over must look before posting. NULL: no post was ever sent (or each one was
    #: refused for sure), so posting needs no look (and no channel history).
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When an admin last had the posted digest updated in place with newer data.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Who is updating it now (:func:`bot.digest.claims.owner_id`) and until when: one update of a
    #: posted digest at a time, across replicas.
    update_by: Mapped[str | None] = mapped_column(String(100))
    update_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Win(Base):
    """A win someone nominated with the "Share as SNS win" message shortcut."""

    __tablename__ = "win"
    __table_args__ = (
        UniqueConstraint("channel_id", "message_ts", "nominated_by"),
        Index("ix_win_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(40))
    message_ts: Mapped[str] = mapped_column(String(40))
    permalink: Mapped[str | None] = mapped_column(String(3000))
    message_author: Mapped[str | None] = mapped_column(String(40))
    what_happened: Mapped[str] = mapped_column(Text)
    kpi_key: Mapped[str | None] = mapped_column(String(40))
    nominated_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
