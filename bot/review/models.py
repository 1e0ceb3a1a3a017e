"""ORM for reviews: requests, their revisions, resolved approvers per step, and the audit trail.

``review_request.version`` is an optimistic lock: every state change is a conditional
``UPDATE … WHERE version = :seen``, so two managers clicking at once produce one decision on
SQLite and PostgreSQL alike. ``review_event`` is append-only: nothing is ever deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class ReviewRequest(Base):
    __tablename__ = "review_request"
    __table_args__ = (
        Index("ix_review_request_status_next_reminder", "status", "next_reminder_at"),
        Index("ix_review_request_requester_status", "requester_id", "status"),
        Index("ix_review_request_decided_at", "decided_at"),
        Index("ix_review_request_created_at", "created_at"),
        # "Waiting on you", oldest first (list, App Home): walked in order, stops at the page size.
        Index("ix_review_request_status_waiting", "status", "waiting_since", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[str] = mapped_column(String(40))
    account_key: Mapped[str] = mapped_column(String(40))
    #: ``pending`` | ``changes_requested`` | ``approved`` | ``rejected`` | ``published``
    status: Mapped[str] = mapped_column(String(20))
    current_step: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=1)
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    link_url: Mapped[str | None] = mapped_column(String(3000))
    feedback_wanted: Mapped[str] = mapped_column(Text, default="")
    channel_id: Mapped[str | None] = mapped_column(String(40))
    message_ts: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the request last started waiting on reviewers (creation or resubmission).
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewRevision(Base):
    __tablename__ = "review_revision"
    __table_args__ = (UniqueConstraint("request_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("review_request.id"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewApprover(Base):
    """The resolved approvers of each step (user groups expanded when the request was made)."""

    __tablename__ = "review_approver"
    __table_args__ = (
        UniqueConstraint("request_id", "step", "user_id"),
        Index("ix_review_approver_user", "user_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("review_request.id"))
    step: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(String(40))
    #: ``any`` | ``all`` (the step's mode, repeated on each of its rows)
    mode: Mapped[str] = mapped_column(String(10))


class ReviewEvent(Base):
    """The audit trail: one row per thing that happened to a request."""

    __tablename__ = "review_event"
    __table_args__ = (
        Index("ix_review_event_request", "request_id", "id"),
        Index("ix_review_event_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("review_request.id"))
    #: requested | reminded | escalated | commented | step_approved | changes_requested |
    #: approved | rejected | resubmitted | published
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[str | None] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    what_works: Mapped[str | None] = mapped_column(Text)
    what_to_change: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[list[str] | None] = mapped_column(JSON)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
