"""ORM for participation: marks people left on the bot's posts, per-user nudge settings, nudge claims."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class ParticipationMark(Base):
    """A reaction or a thread reply someone left on one of the bot's posts.

    The natural key makes a Slack retry, a redelivery in the other mode or a second replica change
    nothing: a reaction is ``(channel, message, user, emoji)``, a reply ``(channel, thread, user, reply ts)``.
    A removed reaction keeps its row with ``removed`` set; ``event_time`` orders add/remove deliveries
    that arrive out of order (the later event wins).
    """

    __tablename__ = "participation_mark"
    __table_args__ = (
        UniqueConstraint("kind", "channel_id", "message_ts", "user_id", "item"),
        Index("ix_participation_mark_at", "at"),
        Index("ix_participation_mark_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: A :class:`bot.participation.ids.MarkKind`.
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(40))
    #: The bot's post: the reacted message, or the thread's parent.
    message_ts: Mapped[str] = mapped_column(String(40))
    #: The emoji name of a reaction, the reply's own ts for a reply.
    item: Mapped[str] = mapped_column(String(100))
    #: When it happened (the event's time).
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Slack's ``event_time`` of the latest delivery applied (epoch seconds).
    event_time: Mapped[int] = mapped_column(BigInteger)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)


class ParticipationPrefs(Base):
    """A manager's own nudge setting (App Home) and "remind me next week"."""

    __tablename__ = "participation_prefs"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    nudges_off: Mapped[bool] = mapped_column(Boolean, default=False)
    #: "Remind me next week": no nudge before this local date, and one on it (or after) while still silent.
    remind_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ParticipationNudge(Base):
    """One nudge to one manager: claimed (unique per user and slot) before the DM is sent, so restarts
    and replicas never send two. ``slot`` is ``w<N>`` for the N-th ``nudge_after_weeks`` window, or
    ``r<YYYY-MM-DD>`` for the reminder a manager asked for with "Remind me next week"."""

    __tablename__ = "participation_nudge"
    __table_args__ = (UniqueConstraint("user_id", "slot"), Index("ix_participation_nudge_user", "user_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40))
    slot: Mapped[str] = mapped_column(String(20))
    #: A :class:`bot.participation.ids.NudgeStatus`.
    status: Mapped[str] = mapped_column(String(10))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
