"""ORM of the manager introduction: one row per manager the bot has welcomed (table ``manager_welcome``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class ManagerWelcome(Base):
    """The claim that ``user_id`` was welcomed: inserted once (primary key), in the same transaction as
    the outbox item that sends the DM, so restarts and replicas never welcome anyone twice."""

    __tablename__ = "manager_welcome"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: What introduced them: ``home`` (opened the App Home) or ``review`` (a first review reached them).
    via: Mapped[str] = mapped_column(String(20))
    welcomed_at: Mapped[datetime] = mapped_column(UTCDateTime())
