"""ORM for away mode: per-user away days and delegate, set on the App Home (table ``user_state``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class UserState(Base):
    # The table keeps its first name (it was the Home's per-user state): no migration for a move.
    __tablename__ = "user_state"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: Reminders skip this manager up to and including this local date.
    away_until: Mapped[date | None] = mapped_column(Date)
    #: A configured manager who decides for this user while they are away (issue 13 item 4).
    delegate_id: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
