"""ORM for per-user state shown on and set from the App Home (away mode)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class UserState(Base):
    __tablename__ = "user_state"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: Reminders skip this manager up to and including this local date.
    away_until: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
