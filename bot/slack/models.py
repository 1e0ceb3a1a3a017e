"""ORM: Slack work owed for changes already stored (the outbox; see :mod:`bot.slack.outbox`) and each
person's choice of language (:mod:`bot.slack.locales`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class OutboxItem(Base):
    """Slack work owed for something already stored (a decision's channel update, thread reply and
    DM): written in the same transaction as the change, done after the ack, and retried by the
    outbox sweep when Slack failed past its retries (:mod:`bot.slack.outbox`)."""

    __tablename__ = "outbox_item"
    __table_args__ = (Index("ix_outbox_item_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: ``pending`` | ``done`` | ``failed``
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserLocale(Base):
    """A person's own choice of language on the App Home (``ja`` or ``en``); no row means "follow my
    Slack locale" (:mod:`bot.slack.locales`)."""

    __tablename__ = "user_locale"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    locale: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
