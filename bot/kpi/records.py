"""Plain records that flow from importers and collectors into the store (pure, no I/O).

Importers (CSV exports) and collectors (platform APIs) both produce these; the KPI service
upserts them. Keeping them free of SQLAlchemy and pandas lets both sides be tested alone
(the column-wise form of a large import, with numpy, is ``bot.kpi.columns.PostColumns``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

#: The per-post metrics the store keeps, in the order exports and the DB use.
METRIC_FIELDS: tuple[str, ...] = (
    "impressions",
    "reach",
    "engagements",
    "likes",
    "comments",
    "shares",
    "saves",
    "clicks",
    "video_views",
)

#: What "engagements" adds up to when a source has no engagements figure of its own.
ENGAGEMENT_PARTS: tuple[str, ...] = ("likes", "comments", "shares", "saves", "clicks")


@dataclass(frozen=True, slots=True)
class Metrics:
    """One observation of a post's counters; ``None`` means "the source did not say"."""

    impressions: int | None = None
    reach: int | None = None
    engagements: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    clicks: int | None = None
    video_views: int | None = None

    def engagement_total(self) -> int | None:
        """The source's own engagements figure, else likes + comments + shares + saves + clicks."""
        if self.engagements is not None:
            return self.engagements
        parts = [getattr(self, name) for name in ENGAGEMENT_PARTS]
        known = [p for p in parts if p is not None]
        return sum(known) if known else None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def as_dict(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in METRIC_FIELDS}


@dataclass(frozen=True, slots=True)
class PostRecord:
    """A published post as a source describes it.

    Attributes:
        platform: ``x`` | ``instagram`` | ``youtube`` | ``tiktok`` | ``linkedin`` | ``facebook`` | ``note`` | ``other``.
        external_id: the platform's id of the post (tweet id, media id, video id). Sources
            without one use the post URL, which identifies the post just as well.
        published_at: timezone-aware (UTC) publish time.
        account_key: the configured account the post belongs to, when the source says.
        line: the source line (1-based, header = 1) for error reports; ``None`` for API data.
    """

    platform: str
    external_id: str
    published_at: datetime
    url: str | None = None
    text: str = ""
    account_key: str | None = None
    author: str | None = None
    metrics: Metrics = Metrics()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class KpiRecord:
    """A KPI value for a month (``YYYY-MM``) or a day (``YYYY-MM-DD``)."""

    kpi: str
    period: str
    value: float
    line: int | None = None


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Account-level counters at one moment (followers feed the ``follower_growth`` KPI)."""

    account_key: str
    followers: int | None = None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A rejected input row: its line number and a catalog key + params saying why."""

    line: int
    key: str
    params: dict[str, Any]
