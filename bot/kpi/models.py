"""ORM for the KPI store: accounts, posts with their latest metrics and metric history, KPI values and targets.

A post keeps its *latest* metrics on its own row (refreshed with every new snapshot) so period
aggregates are one indexed range scan over ``post``; ``metric_snapshot`` keeps the history.
KPI values and targets are append-only: the latest row for a (KPI, period) is the value, and
earlier rows stay as history with who/when/source.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime


class Account(Base):
    """A configured SNS account (config is the source of truth; rows are synced at start)."""

    __tablename__ = "account"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(200), default="")
    #: The platform's user id looked up from ``handle`` when the config gives none (X discovery
    #: needs it); cleared when the handle changes, so it is asked once per handle.
    platform_user_id: Mapped[str | None] = mapped_column(String(40), default=None)


class AccountSnapshot(Base):
    """Account-level counters at one moment; follower growth is derived from these."""

    __tablename__ = "account_snapshot"
    __table_args__ = (Index("ix_account_snapshot_account_captured", "account_key", "captured_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_key: Mapped[str] = mapped_column(ForeignKey("account.key"))
    followers: Mapped[int | None] = mapped_column(BigInteger)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(20))


class Post(Base):
    """A published post. ``(platform, external_id)`` identifies it across imports and collectors."""

    __tablename__ = "post"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        Index("ix_post_published_at", "published_at"),
        Index("ix_post_account_published", "account_key", "published_at"),
        Index("ix_post_review_request_id", "review_request_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_key: Mapped[str] = mapped_column(ForeignKey("account.key"))
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2000))
    text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Slack user id of the author when known (a post published through a review), else the
    #: platform's author name from an export.
    author: Mapped[str | None] = mapped_column(String(200))
    review_request_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Latest metrics (copy of the newest snapshot); engagements is the computed total.
    impressions: Mapped[int | None] = mapped_column(BigInteger)
    reach: Mapped[int | None] = mapped_column(BigInteger)
    engagements: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    saves: Mapped[int | None] = mapped_column(BigInteger)
    clicks: Mapped[int | None] = mapped_column(BigInteger)
    video_views: Mapped[int | None] = mapped_column(BigInteger)
    metrics_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MetricSnapshot(Base):
    """One observation of a post's counters; a new row only when something changed."""

    __tablename__ = "metric_snapshot"
    __table_args__ = (Index("ix_metric_snapshot_post_captured", "post_id", "captured_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(20))
    impressions: Mapped[int | None] = mapped_column(BigInteger)
    reach: Mapped[int | None] = mapped_column(BigInteger)
    engagements: Mapped[int | None] = mapped_column(BigInteger)
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    saves: Mapped[int | None] = mapped_column(BigInteger)
    clicks: Mapped[int | None] = mapped_column(BigInteger)
    video_views: Mapped[int | None] = mapped_column(BigInteger)


class KpiValue(Base):
    """A recorded KPI value for a month (``day`` is NULL) or a day. Append-only."""

    __tablename__ = "kpi_value"
    __table_args__ = (Index("ix_kpi_value_kpi_month", "kpi_key", "month", "day", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kpi_key: Mapped[str] = mapped_column(String(40))
    #: ``YYYY-MM``: the month the value belongs to (also for day-level values).
    month: Mapped[str] = mapped_column(String(7))
    day: Mapped[date | None] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    #: How it was recorded: a :class:`bot.kpi.kinds.ValueSource` (``slack_command``, ``home``,
    #: ``import_slack``, ``import_cli``, ``collector``, ``demo``; rows written before 0013 say
    #: ``slack`` or ``import``).
    source: Mapped[str] = mapped_column(String(20))
    #: Who recorded it: a Slack user id (``None``: the command line, a collector).
    recorded_by: Mapped[str | None] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DailyMetric(Base):
    """One day's value of one metric of an account (or of one of its posts), from a time-series
    export: X's daily account export, YouTube's ``Totals.csv`` and ``Chart data.csv``, Search
    Console's ``Chart.csv``. A day is stored once; a later import of the same day replaces its value.
    """

    __tablename__ = "daily_metric"
    __table_args__ = (
        UniqueConstraint("platform", "account_key", "metric", "subject", "day"),
        Index("ix_daily_metric_metric_day", "metric", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``x`` | ``youtube`` | ``search_console`` …
    platform: Mapped[str] = mapped_column(String(20))
    #: The configured account; ``""`` for a site (Search Console).
    account_key: Mapped[str] = mapped_column(String(40))
    #: ``impressions``, ``views``, ``follows``, ``clicks`` …
    metric: Mapped[str] = mapped_column(String(40))
    #: ``""``: the account as a whole; else the platform id of the post the value is about.
    subject: Mapped[str] = mapped_column(String(500), default="")
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KpiTarget(Base):
    """A monthly target overriding the config default. Append-only; the latest row wins."""

    __tablename__ = "kpi_target"
    __table_args__ = (Index("ix_kpi_target_kpi_month", "kpi_key", "month", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kpi_key: Mapped[str] = mapped_column(String(40))
    month: Mapped[str] = mapped_column(String(7))
    value: Mapped[float] = mapped_column(Float)
    set_by: Mapped[str | None] = mapped_column(String(40))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CollectorRun(Base):
    """One run of one platform collector: when, how it went, and the error admins should see."""

    __tablename__ = "collector_run"
    __table_args__ = (Index("ix_collector_run_platform_started", "platform", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: A :class:`bot.kpi.kinds.RunStatus`: ``running``, then ``ok`` | ``partial`` | ``failed``.
    status: Mapped[str] = mapped_column(String(20), default="running")
    posts_updated: Mapped[int] = mapped_column(Integer, default=0)
    #: Posts the platform reported on in this run (measured), and of those, posts it found that
    #: the store did not know yet (discovered from the account's recent posts).
    posts_seen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    posts_new: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)


class KpiUpload(Base):
    """An export file someone dropped into the bot's DM: one row per Slack file, so the two events
    of one upload (and their retries, on any replica) give one preview, and Import runs once.

    ``status`` moves forward only, by conditional updates (see :class:`bot.kpi.kinds.UploadStatus`).
    """

    __tablename__ = "kpi_upload"
    __table_args__ = (UniqueConstraint("file_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    #: The bot's message in the DM that shows the preview, then the progress and the report.
    message_ts: Mapped[str | None] = mapped_column(String(40))
    filename: Mapped[str | None] = mapped_column(String(300))
    #: SHA-256 of the previewed bytes: Import imports exactly what was previewed.
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
