"""ORM for digests: one claim row per (kind, period, channel) makes posting exactly-once; nominated wins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class DigestRun(Base):
    """The claim, and then the record, of one digest post.

    Inserted with a lease before posting (the unique constraint lets one replica win); the
    message ts is recorded after posting. A claim whose lease ran out without a ts is
    recovered by looking for the message in the channel before posting again.
    """

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("kind", "period", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(10))
    channel_id: Mapped[str] = mapped_column(String(40))
    #: ``claimed`` | ``posted`` | ``failed`` | ``missed`` | ``skipped``
    status: Mapped[str] = mapped_column(String(10))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_ts: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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
