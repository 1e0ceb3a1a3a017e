"""What a post's and an account's counters are, as every source reports them (pure).

Exports, platform APIs and the store all speak these; the KPI slice derives its numbers from them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

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
class AccountCounts:
    """Account-level counters at one moment (followers feed the ``follower_growth`` KPI)."""

    account_key: str
    followers: int | None = None
