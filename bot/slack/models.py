"""ORM: keys of deliveries already handled, so Slack's retries and double submissions have no second effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class ProcessedKey(Base):
    """A delivery or one-time action that has been handled (Events API ``event_id``, a modal's
    submission key, "admins were told about X"). Inserting the same key twice fails on the primary
    key, which is the whole point."""

    __tablename__ = "processed_key"
    # The daily prune (bot.slack.idempotency.prune_keys) walks old rows by time.
    __table_args__ = (Index("ix_processed_key_created_at", "created_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
