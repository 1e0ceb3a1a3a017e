"""Helpers of the KPI store tests: KPIs of every kind and posts to store."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.kpi.records import PostRecord
from bot.metrics import Metrics
from bot.periods import month_of

NOV = month_of(date(2026, 11, 1))
OCT = NOV.previous()
EARLY_NOV = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
LATE_OCT = datetime(2026, 10, 31, 14, 0, tzinfo=UTC)


def with_every_kind(raw: dict[str, Any]) -> None:
    """Config change: KPIs derived from posts and followers, one filtered by account, and a mean."""
    for key in ("impressions", "posts_published", "follower_growth", "engagements"):
        raw["kpis"].append(
            {
                "key": key,
                "name": {"ja": key, "en": key},
                "unit": "",
                "aggregate": "derived",
                "derive": key,
                "better": "higher",
                "why": {"ja": "理由", "en": "why"},
            }
        )
    raw["kpis"].append(
        {
            "key": "x_rate",
            "name": {"ja": "X 率", "en": "X rate"},
            "unit": "%",
            "aggregate": "derived",
            "derive": "engagement_rate",
            "accounts": ["x_corp"],
            "better": "higher",
            "target": 2.0,
            "why": {"ja": "理由", "en": "why"},
        }
    )
    raw["kpis"].append(
        {
            "key": "cost",
            "name": {"ja": "コスト", "en": "Cost"},
            "unit": "¥",
            "aggregate": "mean",
            "better": "lower",
            "target": 1000,
            "why": {"ja": "理由", "en": "why"},
        }
    )


def make_post(ext: str, published: datetime, *, account: str = "x_corp", **metrics: int) -> PostRecord:
    platform = "x" if account == "x_corp" else "instagram"
    return PostRecord(
        platform=platform,
        external_id=ext,
        published_at=published,
        url=f"https://example.com/{ext}",
        account_key=account,
        metrics=Metrics(**metrics),
    )
