"""ORM of the monthly review's action items (table ``action_item``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class ActionItem(Base):
    """One action item agreed on a monthly digest: what, who owns it, by which month."""

    __tablename__ = "action_item"
    __table_args__ = (
        Index("ix_action_item_review", "review_period"),
        Index("ix_action_item_owner_status", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The month of the digest it was added on (``2026-10``: reviewed in November).
    review_period: Mapped[str] = mapped_column(String(7))
    what: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(40))
    #: ``YYYY-MM``: done by the end of this month.
    due_month: Mapped[str] = mapped_column(String(7))
    #: ``open`` | ``done`` (:class:`bot.actions.ids.Status`)
    status: Mapped[str] = mapped_column(String(10))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The digest message it was added on; the item's own message is a reply in that thread.
    channel_id: Mapped[str] = mapped_column(String(40))
    thread_ts: Mapped[str] = mapped_column(String(40))
    message_ts: Mapped[str | None] = mapped_column(String(40))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(40))
    #: Bumped on every change (a conditional update refuses a stale one).
    version: Mapped[int] = mapped_column(Integer, default=1)
