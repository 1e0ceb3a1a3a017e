"""ORM for per-user state shown on and set from the App Home (away mode and its delegate)."""

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
    #: A configured manager who decides for this user while they are away (issue 13 item 4).
    delegate_id: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
