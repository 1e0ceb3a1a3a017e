"""ORM of the milestones feature: one row per milestone ever detected, which is also its claim (the
unique kind + subject + mark lets exactly one replica record, and announce, it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class Milestone(Base):
    """Something the team achieved, as detected from the store.

    ``(kind, subject, mark)`` is the claim: ``kpi_record / recruiting_entries / 2026-11``,
    ``target_streak / engagement_rate / 2026-11:3``, ``best_post / team / q2026-10`` (a fiscal quarter by its first month; ``2026-Q4`` from the first
    release, a calendar quarter),
    ``posts_total / team / 1000``, ``followers / x_corp / 10000``. Inserting it twice does nothing,
    so a milestone is recorded (and announced) once, whatever restarts or replicas do.
    """

    __tablename__ = "milestone"
    __table_args__ = (
        UniqueConstraint("kind", "subject", "mark"),
        Index("ix_milestone_detected_at", "detected_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: A :class:`bot.milestones.ids.MilestoneKind` value.
    kind: Mapped[str] = mapped_column(String(30))
    #: The KPI key, the account key, or ``team``.
    subject: Mapped[str] = mapped_column(String(60))
    #: The period (``2026-11``, ``q2026-10``), the streak's end and length, or the round number.
    mark: Mapped[str] = mapped_column(String(40))
    value: Mapped[float | None] = mapped_column(Float)
    #: What it beat: the previous best, the value a round number was crossed from.
    previous: Mapped[float | None] = mapped_column(Float)
    #: What the message needs besides (a post's URL, text excerpt, account and figures).
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Where and when it was announced (NULL: not announced, e.g. announcing is off).
    channel_id: Mapped[str | None] = mapped_column(String(40))
    message_ts: Mapped[str | None] = mapped_column(String(40))
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
