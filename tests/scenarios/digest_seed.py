"""Hand-built store contents for the digest scenarios: posts, reviews with decisions, wins, KPI values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest.models import Win
from bot.kpi.records import PostRecord
from bot.kpi.values import record_value, upsert_posts
from bot.metrics import Metrics
from bot.review.models import ReviewApprover, ReviewEvent, ReviewRequest

TOKYO = ZoneInfo("Asia/Tokyo")
SEEDED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO).astimezone(UTC)


async def add_post(
    session: AsyncSession,
    *,
    n: int,
    at: datetime,
    impressions: int | None,
    engagements: int | None,
    account: str = "x_corp",
    author: str | None = None,
    text: str | None = None,
) -> None:
    platform = "x" if account == "x_corp" else "instagram"
    url = (
        f"https://x.com/example_corp/status/{n}" if platform == "x" else f"https://www.instagram.com/p/P{n}/"
    )
    record = PostRecord(
        platform=platform,
        external_id=str(n),
        published_at=at,
        url=url,
        text=text or f"投稿 {n}",
        account_key=account,
        author=author,
        metrics=Metrics(impressions=impressions, engagements=engagements),
    )
    await upsert_posts(session, [record], source="import", now=SEEDED_AT)


async def add_review(
    session: AsyncSession,
    *,
    requester: str,
    created: datetime,
    decided: datetime | None = None,
    status: str = "approved",
    decider: str | None = None,
    reasons: list[str] | None = None,
    approvers: tuple[str, ...] = (),
    account: str = "x_corp",
    message_ts: str | None = None,
) -> int:
    """A review request; with ``decided`` also its decision event (and a change request with ``reasons``)."""
    request = ReviewRequest(
        requester_id=requester,
        account_key=account,
        status=status,
        current_step=0,
        revision=1,
        version=1,
        created_at=created,
        waiting_since=created,
        decided_at=decided if status != "pending" else None,
        channel_id="C0REVIEW01" if message_ts else None,
        message_ts=message_ts,
    )
    session.add(request)
    await session.flush()
    events: list[dict[str, Any]] = [{"kind": "requested", "actor_id": requester, "created_at": created}]
    if reasons:
        events.append(
            {
                "kind": "changes_requested",
                "actor_id": decider,
                "created_at": created + timedelta(minutes=30),
                "reasons": reasons,
            }
        )
    if decided is not None and status != "pending":
        kind = "rejected" if status == "rejected" else "approved"
        events.append({"kind": kind, "actor_id": decider, "created_at": decided})
    for event in events:
        session.add(ReviewEvent(request_id=request.id, revision=1, **event))
    for user in approvers:
        session.add(ReviewApprover(request_id=request.id, step=0, user_id=user, mode="any"))
    await session.flush()
    return request.id


async def add_win(
    session: AsyncSession,
    *,
    what: str,
    by: str,
    at: datetime,
    kpi: str | None = None,
    ts: str = "1763600000.000100",
) -> None:
    session.add(
        Win(
            channel_id="C0DIGEST1",
            message_ts=ts,
            permalink=f"https://acme.slack.com/archives/C0DIGEST1/p{ts.replace('.', '')}",
            message_author=None,
            what_happened=what,
            kpi_key=kpi,
            nominated_by=by,
            created_at=at,
        )
    )
    await session.flush()


async def add_kpi(session: AsyncSession, *, kpi: str, month: str, value: float) -> None:
    await record_value(
        session, kpi=kpi, month=month, day=None, value=value, source="import", user_id=None, now=SEEDED_AT
    )
