"""Reading the KPI store: every KPI's month values and targets, this month's status, and the posts a
collector should refresh (I/O through a passed-in AsyncSession; no Slack).

Read by ``/sns-kpi``, the App Home and the digests. Month values are read with at most four statements
(recorded values, one post aggregate per month and account, follower counts, targets), whatever the
number of KPIs and account filters: a 12-month history over a million posts is indexed range scans,
not a loop in Python, and each KPI's account filter is applied to the per-account rows in pure code
(:mod:`bot.kpi.status`). Recorded values and targets are append-only: the latest row of a (KPI,
period) is the value.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    String,
    and_,
    bindparam,
    case,
    func,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import KpiSettings, Settings
from bot.kpi.kinds import DAILY_SUMS, SEARCH_CONSOLE, Aggregate, Derivation, aggregate, derivation, is_stored
from bot.kpi.models import Account, AccountSnapshot, DailyMetric, KpiTarget, KpiValue, Post
from bot.kpi.records import Recorded
from bot.kpi.status import (
    BEFORE,
    NO_POSTS,
    KpiMonth,
    KpiStatus,
    PostStats,
    assess,
    follower_growth,
    post_stats_for,
)
from bot.periods import Period, elapsed_share, month_of

# ---------------------------------------------------------------------------------------------
# Month values and targets
# ---------------------------------------------------------------------------------------------


async def kpi_months(
    session: AsyncSession, *, settings: Settings, months: Sequence[Period]
) -> dict[str, list[KpiMonth]]:
    """Every configured KPI's value and target for each of ``months`` (in ``months`` order).

    See :func:`kpi_figures`, which also returns the engagement rate's post sums.
    """
    return (await kpi_figures(session, settings=settings, months=months))[0]


#: Per rate KPI key, per month label: the sums of the posts it counts (fiscal roll-ups add them up).
RateStats = dict[str, dict[str, PostStats]]


async def kpi_figures(
    session: AsyncSession, *, settings: Settings, months: Sequence[Period]
) -> tuple[dict[str, list[KpiMonth]], RateStats]:
    """Every configured KPI's value and target for each of ``months`` (in ``months`` order), and
    for each engagement-rate KPI the post sums behind its monthly rates (:data:`RateStats`).

    Recorded KPIs: the month's latest month-level value, else the KPI's ``aggregate`` (sum,
    last, mean) of the latest value of each recorded day. Derived KPIs come from the posts
    published in the month (``engagement_rate``, ``impressions``, ``engagements``,
    ``posts_published``) or from account snapshots (``follower_growth``).

    At most four statements, whatever the number of KPIs and account filters: recorded values,
    one post aggregate per (month, account), one follower query, targets. Each KPI's account
    filter is applied to the per-account rows in Python (:func:`bot.kpi.status.post_stats_for`).
    """
    if any(m.kind != "monthly" for m in months):
        raise ValueError("kpi_months needs monthly periods")
    labels = [m.label for m in months]
    if not months or not settings.kpis:
        empty = {k.key: [KpiMonth(k.key, label, None, None) for label in labels] for k in settings.kpis}
        return empty, {}
    tz = settings.tz
    recorded = [k for k in settings.kpis if is_stored(k)]
    from_posts = [
        (k, d)
        for k in settings.kpis
        if (d := derivation(k)) not in (None, Derivation.FOLLOWER_GROWTH, Derivation.MANAGER_PARTICIPATION)
        and d not in DAILY_SUMS
    ]
    from_days = [(k, d) for k in settings.kpis if (d := derivation(k)) in DAILY_SUMS]
    from_followers = [k for k in settings.kpis if derivation(k) is Derivation.FOLLOWER_GROWTH]
    values: dict[tuple[str, str], float | None] = {}
    rate_stats: RateStats = {}
    if recorded:
        values.update(await _recorded_values(session, kpis=recorded, labels=labels))
    if from_posts:
        accounts = _union([k for k, _ in from_posts])
        per_account = await _post_stats(session, months=months, tz=tz, accounts=accounts)
        for kpi, derive in from_posts:
            stats = post_stats_for(per_account, accounts=kpi.accounts)
            if derive is Derivation.ENGAGEMENT_RATE:
                rate_stats[kpi.key] = stats
            for label in labels:
                values[(kpi.key, label)] = stats.get(label, NO_POSTS).value(derive)
    if from_followers:
        ordered = sorted(months)
        counts = await _follower_counts(session, months=ordered, tz=tz, accounts=_union(from_followers))
        for kpi in from_followers:
            growth = follower_growth(counts, months=[m.label for m in ordered], accounts=kpi.accounts)
            for label in labels:
                values[(kpi.key, label)] = growth.get(label)
    if from_days:
        values.update(await _daily_sums(session, kpis=from_days, months=months))
    targets = await _targets(session, kpis=[k.key for k in settings.kpis], labels=labels)
    found = {
        k.key: [
            KpiMonth(k.key, label, values.get((k.key, label)), targets.get((k.key, label), k.target))
            for label in labels
        ]
        for k in settings.kpis
    }
    return found, rate_stats


def _union(kpis: Sequence[KpiSettings]) -> tuple[str, ...]:
    """The accounts whose rows ``kpis`` need: ``()`` (every account) as soon as one KPI has no filter."""
    if any(not k.accounts for k in kpis):
        return ()
    return tuple(sorted({a for k in kpis for a in k.accounts}))


async def _recorded_values(
    session: AsyncSession, *, kpis: Sequence[KpiSettings], labels: Sequence[str]
) -> dict[tuple[str, str], float | None]:
    # Every row of the months, in the index's order (kpi, month, day, id): the last row of each
    # (kpi, month, day) is its value; day NULL is the month-level value. One index range, no
    # self-join on max(id): PostgreSQL planned that join as a hash over the whole table.
    rows = await session.execute(_RECORDED, {"kpis": [k.key for k in kpis], "months": list(labels)})
    latest: dict[tuple[str, str, date | None], float] = {}
    for key, month, day, value in rows:
        latest[(key, month, day)] = value
    month_level: dict[tuple[str, str], float] = {}
    days: dict[tuple[str, str], list[tuple[date, float]]] = defaultdict(list)
    for (key, month, day), value in latest.items():
        if day is None:
            month_level[(key, month)] = value
        else:
            days[(key, month)].append((day, value))
    how_of = {k.key: aggregate(k) for k in kpis}
    out: dict[tuple[str, str], float | None] = {}
    for pair in month_level.keys() | days.keys():
        if pair in month_level:
            out[pair] = month_level[pair]
            continue
        day_values = sorted(days[pair])
        how = how_of[pair[0]]
        if how is Aggregate.SUM:
            out[pair] = math.fsum(v for _, v in day_values)
        elif how is Aggregate.MEAN:
            out[pair] = math.fsum(v for _, v in day_values) / len(day_values)
        else:  # "last": the latest day's value
            out[pair] = day_values[-1][1]
    return out


async def _daily_sums(
    session: AsyncSession, *, kpis: Sequence[tuple[KpiSettings, Derivation]], months: Sequence[Period]
) -> dict[tuple[str, str], float | None]:
    """Each KPI's sum of the daily account values of its metric in each month (``None``: no day
    stored). Days are the platforms' own reporting days, so a month is its calendar days."""
    metrics = sorted({DAILY_SUMS[d][0] for _, d in kpis})
    first = min(m.start for m in months)
    last = max(m.end for m in months)
    rows = await session.execute(
        select(
            DailyMetric.platform,
            DailyMetric.account_key,
            DailyMetric.metric,
            DailyMetric.day,
            DailyMetric.value,
        ).where(
            DailyMetric.metric.in_(metrics),
            DailyMetric.subject == "",
            DailyMetric.day >= first,
            DailyMetric.day < last,
        )
    )
    sums: dict[tuple[str, str], float] = defaultdict(float)
    labels = {m.label for m in months}
    for platform, account, metric, day, value in rows:
        label = f"{day.year:04d}-{day.month:02d}"
        if label not in labels:
            continue
        for kpi, derive in kpis:
            wanted, on = DAILY_SUMS[derive]
            if metric != wanted:
                continue
            if on is None and platform == SEARCH_CONSOLE or on is not None and platform != on:
                continue
            if kpi.accounts and on is None and account not in kpi.accounts:
                continue
            sums[(kpi.key, label)] += value
    return {(kpi.key, m.label): sums.get((kpi.key, m.label)) for kpi, _ in kpis for m in months}


async def _targets(
    session: AsyncSession, *, kpis: Sequence[str], labels: Sequence[str]
) -> dict[tuple[str, str], float]:
    rows = await session.execute(_TARGETS, {"kpis": list(kpis), "months": list(labels)})
    return {(key, month): value for key, month, value in rows}


async def _post_stats(
    session: AsyncSession, *, months: Sequence[Period], tz: ZoneInfo, accounts: Sequence[str]
) -> dict[tuple[str, str], PostStats]:
    """Per (month label, account): count and sums of the posts published in ``months`` (of
    ``accounts``; every account when empty), in one statement (see :func:`_post_stats_statement`)."""
    unique = list(dict.fromkeys(months))  # a month asked for twice is counted once
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    params: dict[str, Any] = _month_params(unique, tz)
    if accounts:
        params["accounts"] = list(accounts)
    stmt = _post_stats_statement(len(unique), by_account=bool(accounts), postgres=postgres)
    out: dict[tuple[str, str], PostStats] = {}
    for label, account, posts, impressions, engagements, rate_eng, rate_imp in await session.execute(
        stmt, params
    ):
        if label is not None:  # a gap between the months asked for
            out[(label, account)] = PostStats(
                int(posts), _as_int(impressions), _as_int(engagements), _as_int(rate_eng), _as_int(rate_imp)
            )
    return out


def _month_params(months: Sequence[Period], tz: ZoneInfo) -> dict[str, Any]:
    """The bound values of the month placeholders ``m<i>`` (label), ``m<i>_start`` and ``m<i>_end``,
    and of ``span_start`` / ``span_end`` (the first start, the last end)."""
    params: dict[str, Any] = {}
    for i, month in enumerate(months):
        params[f"m{i}"] = month.label
        params[f"m{i}_start"], params[f"m{i}_end"] = month.bounds_utc(tz)
    params["span_start"] = min(params[f"m{i}_start"] for i in range(len(months)))
    params["span_end"] = max(params[f"m{i}_end"] for i in range(len(months)))
    return params


def _month(i: int) -> tuple[BindParameter[Any], BindParameter[Any], BindParameter[Any]]:
    return bindparam(f"m{i}", type_=String), bindparam(f"m{i}_start"), bindparam(f"m{i}_end")


# Statements of the KPI reads are built once per shape (number of months, filter, store) with the
# months as bound parameters: building and cache-keying them cost 0.2-0.5 ms each per call.
_KPIS: BindParameter[list[str]] = bindparam("kpis", expanding=True)
_MONTHS: BindParameter[list[str]] = bindparam("months", expanding=True)
# Every row of the months, in the index's order (kpi, month, day, id): the last row of each
# (kpi, month, day) is its value. One index range, no self-join on max(id): PostgreSQL planned
# that join as a hash over the whole table.
_RECORDED = (
    select(KpiValue.kpi_key, KpiValue.month, KpiValue.day, KpiValue.value)
    .where(KpiValue.kpi_key.in_(_KPIS), KpiValue.month.in_(_MONTHS))
    .order_by(KpiValue.kpi_key, KpiValue.month, KpiValue.day, KpiValue.id)
)
_LATEST_TARGETS = (
    select(func.max(KpiTarget.id).label("id"))
    .where(KpiTarget.kpi_key.in_(_KPIS), KpiTarget.month.in_(_MONTHS))
    .group_by(KpiTarget.kpi_key, KpiTarget.month)
    .subquery()
)
_TARGETS = select(KpiTarget.kpi_key, KpiTarget.month, KpiTarget.value).join(
    _LATEST_TARGETS, KpiTarget.id == _LATEST_TARGETS.c.id
)


@functools.lru_cache(maxsize=64)
def _post_stats_statement(months: int, *, by_account: bool, postgres: bool) -> Any:
    """Count and sums per (month, account) over ``months`` month placeholders (:func:`_month`),
    restricted to ``:accounts`` when ``by_account``.

    The shape depends on the store, because their plans differ (measured at size L, 1M posts,
    against the plain count and sums over the same range):

    - SQLite: a ``UNION ALL`` of one aggregate per month, each an index range on ``published_at``
      grouped by account (13 months: 1.2x the plain aggregate). One ``GROUP BY`` over the whole
      span with a ``CASE`` month bucket makes SQLite sort every post of the span first (1.6x).
    - PostgreSQL: that ``CASE`` bucket, grouped by hashing (2 months: 1.3x). The ``UNION ALL``
      is planned as a Parallel Append whose worker start-up alone cost more than the whole
      2-month aggregate (16 ms against 3.7 ms on two busy cores).
    """
    both = and_(Post.impressions.is_not(None), Post.engagements.is_not(None))
    sums = (
        func.count(Post.id),
        func.sum(Post.impressions),
        func.sum(Post.engagements),
        func.sum(case((both, Post.engagements), else_=None)),
        func.sum(case((both, Post.impressions), else_=None)),
    )
    in_accounts = [Post.account_key.in_(bindparam("accounts", expanding=True))] if by_account else []
    placeholders = [_month(i) for i in range(months)]
    if postgres:
        bucket = case(
            *(
                (and_(Post.published_at >= start, Post.published_at < end), label)
                for label, start, end in placeholders
            ),
            else_=None,
        ).label("month")
        # The range spans the months; between months that are not contiguous, the CASE leaves the
        # gap's posts out (NULL).
        return (
            select(bucket, Post.account_key, *sums)
            .where(
                Post.published_at >= bindparam("span_start"),
                Post.published_at < bindparam("span_end"),
                *in_accounts,
            )
            .group_by(bucket, Post.account_key)
        )
    return union_all(
        *(
            select(label.label("month"), Post.account_key, *sums)
            .where(Post.published_at >= start, Post.published_at < end, *in_accounts)
            .group_by(Post.account_key)
            for label, start, end in placeholders
        )
    )


def _as_int(value: Any) -> int | None:
    # PostgreSQL's SUM over BIGINT is NUMERIC (Decimal); SQLite's is int.
    return None if value is None else int(value)


async def _follower_counts(
    session: AsyncSession, *, months: Sequence[Period], tz: ZoneInfo, accounts: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Per account (of ``accounts``; every account when empty): the last follower count of each of
    ``months`` (oldest first) that has one, and under :data:`BEFORE` the last count before them
    (see :func:`_follower_statement`)."""
    params = _month_params(months, tz)
    if accounts:
        params["accounts"] = list(accounts)
    keys = [BEFORE, *(m.label for m in months)]
    counts: dict[str, dict[str, int]] = {}
    for account, *found in await session.execute(
        _follower_statement(len(months), by_account=bool(accounts)), params
    ):
        counts[account] = {key: int(n) for key, n in zip(keys, found, strict=True) if n is not None}
    return counts


@functools.lru_cache(maxsize=64)
def _follower_statement(months: int, *, by_account: bool) -> Any:
    """One row per account, one column per month placeholder (:func:`_month`) plus the count before
    the first month: each column is a correlated ``ORDER BY captured_at DESC LIMIT 1`` inside the
    month, i.e. one backward seek in the ``(account_key, captured_at)`` index. Grouping the months'
    snapshots instead made PostgreSQL scan the whole table and SQLite the whole index (every year
    of daily counts, with no account to seek by) to find a few hundred rows. A tie on the
    timestamp takes the larger count."""

    def last_count(start: Any, end: Any) -> Any:
        where = [
            AccountSnapshot.account_key == Account.key,
            AccountSnapshot.captured_at < end,
            AccountSnapshot.followers.is_not(None),
        ]
        if start is not None:
            where.append(AccountSnapshot.captured_at >= start)
        return (
            select(AccountSnapshot.followers)
            .where(*where)
            .order_by(AccountSnapshot.captured_at.desc(), AccountSnapshot.followers.desc())
            .limit(1)
            .correlate(Account)
            .scalar_subquery()
        )

    placeholders = [_month(i) for i in range(months)]
    stmt = select(
        Account.key,
        last_count(None, placeholders[0][1]),
        *(last_count(start, end) for _, start, end in placeholders),
    )
    if by_account:
        stmt = stmt.where(Account.key.in_(bindparam("accounts", expanding=True)))
    return stmt


@dataclass(frozen=True, slots=True)
class MonthStatus:
    """Every KPI's status in the month of ``now``, as ``/sns-kpi`` and the App Home show it.

    Attributes:
        month: the current month in the configured time zone.
        elapsed: the share of it that has passed (∈ [0, 1]).
        statuses: one per configured KPI, in config order.
    """

    month: Period
    elapsed: float
    statuses: tuple[KpiStatus, ...]


async def this_month(session: AsyncSession, *, settings: Settings, now: datetime) -> MonthStatus:
    """Every configured KPI's status in the current month, against its target and last month."""
    month = month_of(now.astimezone(settings.tz).date())
    values = await kpi_months(session, settings=settings, months=[month.previous(), month])
    elapsed = elapsed_share(month, now, settings.tz)
    statuses = tuple(assess(k, values[k.key][1], values[k.key][0], elapsed=elapsed) for k in settings.kpis)
    return MonthStatus(month=month, elapsed=elapsed, statuses=statuses)


# ---------------------------------------------------------------------------------------------
# Posts to collect
# ---------------------------------------------------------------------------------------------


async def recent_posts(
    session: AsyncSession, *, platform: str, since: datetime, account: str | None = None
) -> list[tuple[str, str]]:
    """``(external_id, account_key)`` of ``platform``'s posts published since ``since``."""
    stmt = select(Post.external_id, Post.account_key).where(
        Post.platform == platform, Post.published_at >= since
    )
    if account is not None:
        stmt = stmt.where(Post.account_key == account)
    return [(ext, acc) for ext, acc in await session.execute(stmt.order_by(Post.published_at.desc()))]


# ---------------------------------------------------------------------------------------------
# Who recorded what
# ---------------------------------------------------------------------------------------------


async def last_recorded(session: AsyncSession, *, kpi: str, months: Sequence[Period]) -> dict[str, Recorded]:
    """Month label → the latest value row recorded for ``kpi`` in that month (month or day level)."""
    labels = [m.label for m in months]
    latest = (
        select(func.max(KpiValue.id).label("id"))
        .where(KpiValue.kpi_key == kpi, KpiValue.month.in_(labels))
        .group_by(KpiValue.month)
        .subquery()
    )
    rows = await session.execute(
        select(KpiValue.month, KpiValue.recorded_by, KpiValue.source, KpiValue.recorded_at).join(
            latest, KpiValue.id == latest.c.id
        )
    )
    return {month: Recorded(by, source, at) for month, by, source, at in rows}
