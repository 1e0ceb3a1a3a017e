"""Writing the KPI store: accounts from the config, recorded values and targets, imported values, and
the posts and follower counts that imports and collectors bring (I/O through a passed-in
AsyncSession; no Slack).

Recorded values and targets are append-only: the latest row of a (KPI, period) is the value, and
earlier rows stay as history with who/when/source. Posts are written by :mod:`bot.kpi.post_store`,
loaded only when posts are written (it needs numpy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AccountSettings
from bot.db import dialect_insert
from bot.kpi.kinds import ValueSource
from bot.kpi.models import Account, AccountSnapshot, DailyMetric, KpiTarget, KpiValue, Post
from bot.kpi.records import DailyRecord, DailyResult, KpiRecord, PostRecord, RecordResult, UpsertResult
from bot.kpi.rules import KpiEntry
from bot.metrics import Metrics
from bot.periods import PeriodKind, parse_period

if TYPE_CHECKING:
    from bot.kpi.columns import PostColumns  # numpy: loaded only where posts are written

#: Rows per ``IN (…)`` lookup: far below SQLite's and asyncpg's bound-parameter limits.
LOOKUP_BATCH = 2_000


async def sync_accounts(session: AsyncSession, *, accounts: Sequence[AccountSettings]) -> None:
    """Make the ``account`` table hold every configured account (rows of removed accounts stay,
    because posts still point at them).

    Replicas starting together on an empty store all run this at once: new rows go in with
    ``INSERT … ON CONFLICT DO NOTHING``, so the later ones neither fail nor abort their start.
    """
    existing = {a.key: a for a in (await session.scalars(select(Account))).all()}
    insert_new = dialect_insert(session)
    for cfg in accounts:
        row = existing.get(cfg.key)
        if row is None:
            await session.execute(
                insert_new(Account)
                .values(key=cfg.key, platform=cfg.platform, handle=cfg.handle)
                .on_conflict_do_nothing(index_elements=["key"])
            )
        else:
            if row.handle != cfg.handle or row.platform != cfg.platform:
                row.platform_user_id = None  # looked up for another handle
            row.platform = cfg.platform
            row.handle = cfg.handle


# ---------------------------------------------------------------------------------------------
# KPI values and targets
# ---------------------------------------------------------------------------------------------


async def record_value(
    session: AsyncSession,
    *,
    kpi: str,
    month: str,
    day: date | None,
    value: float,
    source: str,
    user_id: str | None,
    now: datetime,
) -> None:
    """Append a value for ``month`` (``day`` None) or for ``day``; the latest row wins."""
    if day is not None and f"{day.year:04d}-{day.month:02d}" != month:
        raise ValueError(f"day {day} is not in month {month}")
    session.add(
        KpiValue(
            kpi_key=kpi,
            month=month,
            day=day,
            value=value,
            source=source,
            recorded_by=user_id,
            recorded_at=now,
        )
    )
    await session.flush()


async def set_target(
    session: AsyncSession, *, kpi: str, month: str, value: float, user_id: str, now: datetime
) -> None:
    """Append a monthly target; it overrides the config target for that month."""
    session.add(KpiTarget(kpi_key=kpi, month=month, value=value, set_by=user_id, set_at=now))
    await session.flush()


async def record_entry(
    session: AsyncSession, *, entry: KpiEntry, user_id: str, now: datetime, source: ValueSource
) -> None:
    """Append the month value a person typed (``/sns-kpi set``: ``slack_command``; the App Home's
    modal: ``home``), with who typed it."""
    await record_value(
        session,
        kpi=entry.kpi.key,
        month=entry.month.label,
        day=None,
        value=entry.value,
        source=source,
        user_id=user_id,
        now=now,
    )


def split_period(period: str) -> tuple[str, date | None]:
    """``YYYY-MM`` → (month, None); ``YYYY-MM-DD`` → (month, day)."""
    if len(period) == 10:
        day = date.fromisoformat(period)
        return period[:7], day
    return parse_period(PeriodKind.MONTHLY, period).label, None


async def record_values(
    session: AsyncSession, records: Sequence[KpiRecord], *, source: str, user_id: str | None, now: datetime
) -> RecordResult:
    """Append imported values; a value equal to the period's current latest one is skipped, so
    importing the same file twice adds no rows."""
    parsed: dict[tuple[str, str, date | None], float] = {}
    for record in records:  # a later row for the same period wins, as it would in history
        month, day = split_period(record.period)
        parsed[(record.kpi, month, day)] = record.value
    if not parsed:
        return RecordResult()
    keys = sorted({k for k, _, _ in parsed})
    months = sorted({m for _, m, _ in parsed})
    latest = (
        select(func.max(KpiValue.id).label("id"))
        .where(KpiValue.kpi_key.in_(keys), KpiValue.month.in_(months))
        .group_by(KpiValue.kpi_key, KpiValue.month, KpiValue.day)
        .subquery()
    )
    current = {
        (k, m, d): v
        for k, m, d, v in await session.execute(
            select(KpiValue.kpi_key, KpiValue.month, KpiValue.day, KpiValue.value).join(
                latest, KpiValue.id == latest.c.id
            )
        )
    }
    rows = [
        {
            "kpi_key": k,
            "month": m,
            "day": d,
            "value": v,
            "source": source,
            "recorded_by": user_id,
            "recorded_at": now,
        }
        for (k, m, d), v in parsed.items()
        if current.get((k, m, d)) != v
    ]
    if rows:
        await session.execute(insert(KpiValue), rows)
    return RecordResult(recorded=len(rows), unchanged=len(parsed) - len(rows))


# ---------------------------------------------------------------------------------------------
# Posts and follower counts
# ---------------------------------------------------------------------------------------------


async def upsert_posts(
    session: AsyncSession, posts: Sequence[PostRecord] | PostColumns, *, source: str, now: datetime
) -> UpsertResult:
    """Insert new posts and refresh known ones (see :func:`bot.kpi.post_store.upsert_posts`).

    The column-wise store code needs numpy, which the running bot loads only when posts are written.
    """
    from bot.kpi import post_store

    return await post_store.upsert_posts(session, posts, source=source, now=now)


async def store_metrics(
    session: AsyncSession, *, platform: str, metrics: Mapping[str, Metrics], source: str, now: datetime
) -> UpsertResult:
    """Refresh collected metrics of known posts (by external id); unknown ids are ignored."""
    if not metrics:
        return UpsertResult()
    ids = list(metrics)
    known: dict[str, tuple[str, datetime]] = {}
    for start in range(0, len(ids), LOOKUP_BATCH):
        rows = await session.execute(
            select(Post.external_id, Post.account_key, Post.published_at).where(
                Post.platform == platform, Post.external_id.in_(ids[start : start + LOOKUP_BATCH])
            )
        )
        known.update({ext: (acc, pub) for ext, acc, pub in rows})
    records = [
        PostRecord(
            platform=platform, external_id=ext, published_at=pub, account_key=acc, metrics=metrics[ext]
        )
        for ext, (acc, pub) in known.items()
    ]
    return await upsert_posts(session, records, source=source, now=now)


async def record_followers(
    session: AsyncSession, *, account_key: str, followers: int | None, source: str, now: datetime
) -> None:
    session.add(AccountSnapshot(account_key=account_key, followers=followers, captured_at=now, source=source))
    await session.flush()


# ---------------------------------------------------------------------------------------------
# Daily values of time-series exports
# ---------------------------------------------------------------------------------------------


async def upsert_daily(
    session: AsyncSession, records: Sequence[DailyRecord], *, source: str, now: datetime
) -> DailyResult:
    """Store day values: a new day is inserted, a known day whose value changed is replaced, an
    equal one is left alone (importing the same file twice changes nothing). A later record of the
    same (platform, account, metric, subject, day) wins."""
    latest: dict[tuple[str, str, str, str, date], float] = {}
    for r in records:
        latest[(r.platform, r.account_key, r.metric, r.subject, date.fromisoformat(r.day))] = r.value
    if not latest:
        return DailyResult()
    days = [key[4] for key in latest]
    stored: dict[tuple[str, str, str, str, date], tuple[int, float]] = {}
    for platform, account in sorted({(k[0], k[1]) for k in latest}):
        rows = await session.execute(
            select(
                DailyMetric.id,
                DailyMetric.metric,
                DailyMetric.subject,
                DailyMetric.day,
                DailyMetric.value,
            ).where(
                DailyMetric.platform == platform,
                DailyMetric.account_key == account,
                DailyMetric.day >= min(days),
                DailyMetric.day <= max(days),
            )
        )
        for row_id, metric, subject, day, value in rows:
            stored[(platform, account, metric, subject, day)] = (row_id, value)
    new: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    for (platform, account, metric, subject, day), value in latest.items():
        found = stored.get((platform, account, metric, subject, day))
        if found is None:
            new.append(
                {
                    "platform": platform,
                    "account_key": account,
                    "metric": metric,
                    "subject": subject,
                    "day": day,
                    "value": value,
                    "source": source,
                    "recorded_at": now,
                }
            )
        elif found[1] != value:
            changed.append({"id": found[0], "value": value, "source": source, "recorded_at": now})
    if new:
        await session.execute(insert(DailyMetric), new)
    if changed:
        await session.execute(update(DailyMetric), changed)
    return DailyResult(new=len(new), updated=len(changed), unchanged=len(latest) - len(new) - len(changed))
