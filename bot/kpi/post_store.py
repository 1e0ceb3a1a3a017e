"""Writing posts: new ones inserted column-wise, known ones merged (I/O: the store; numpy).

Imports hand over whole chunks (``PostColumns``); collectors hand over records, turned into columns
here. Kept apart from :mod:`bot.kpi.values` so that numpy loads only when posts are written.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    String,
    any_,
    bindparam,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import UTCDateTime
from bot.kpi.columns import METRIC_INDEX, Mask2D, Matrix, PostColumns
from bot.kpi.models import MetricSnapshot, Post
from bot.kpi.post_matching import adopt_reviewed_posts, with_platform_ids
from bot.kpi.records import PostRecord, UpsertResult
from bot.metrics import METRIC_FIELDS

#: Upserts at least this large (imports) refresh PostgreSQL's statistics of ``post`` first.
BULK_ROWS = 5_000

_POST_COLUMNS = (
    Post.id,
    Post.platform,
    Post.external_id,
    Post.url,
    Post.text,
    Post.author,
    Post.review_request_id,
) + tuple(getattr(Post, name) for name in METRIC_FIELDS)
#: Columns of a new post, in the order the fast insert paths write them.
_NEW_POST_COLUMNS = (
    "account_key",
    "platform",
    "external_id",
    "url",
    "text",
    "published_at",
    "author",
    "source",
    "created_at",
    "metrics_at",
    *METRIC_FIELDS,
)
_SNAPSHOT_COLUMNS = ("post_id", "captured_at", "source", *METRIC_FIELDS)


def merge_metrics(posts: PostColumns, old_counts: Matrix, old_known: Mask2D) -> tuple[Matrix, Mask2D]:
    """Latest metrics of every row at once (pure), and which of them are known.

    A field the source did not report keeps its earlier value. Engagements are the source's own
    total of *this* observation (its figure, else the sum of the parts it reported), so an old
    total never masks newer likes.

    Args:
        posts: the new observations.
        old_counts: the stored counters, row for row (anything where ``old_known`` is False).
        old_known: which stored counters are not NULL (all False for a new post).
    """
    counts = np.where(posts.known, posts.counts, old_counts)
    known = posts.known | old_known
    total, has_total = posts.engagement_totals()
    eng = METRIC_INDEX["engagements"]
    counts[:, eng] = np.where(has_total, total, old_counts[:, eng])
    known[:, eng] = has_total | old_known[:, eng]
    return counts, known


def _nullable(counts: Matrix, known: Mask2D) -> list[list[int | None]]:
    """Each metric as a column of Python ints with ``None`` where unknown (what drivers take)."""
    out = []
    for j in range(counts.shape[1]):
        column = counts[:, j].astype(object)
        column[~known[:, j]] = None
        out.append(column.tolist())
    return out


def sqlite_datetimes(values: npt.NDArray[np.datetime64]) -> list[str]:
    """UTC times as SQLAlchemy's SQLite ``DATETIME`` writes them (``2026-06-05 03:04:05.678000``).

    Stored times are compared as text, so this must match the type's own bind processor exactly
    (a test checks it does).
    """
    text = np.datetime_as_string(values.astype("datetime64[us]"), unit="us")
    stamps: list[str] = np.strings.replace(text, "T", " ").tolist()
    return stamps


def _aware(values: npt.NDArray[np.datetime64]) -> list[datetime]:
    return [
        _EPOCH + timedelta(microseconds=us)
        for us in values.astype("datetime64[us]").astype(np.int64).tolist()
    ]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: ``None`` as an array, for ``np.where(…, x, _NONE)``: what numpy makes of a bare ``None`` there anyway.
_NONE = np.array(None, dtype=object)


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else ""


def _external_ids_in(dialect: str, ids: list[str]) -> ColumnElement[bool]:
    """``external_id`` is one of ``ids``, bound as ONE parameter (any number of ids, one statement).

    Together with ``platform = …`` both dialects answer it by searching the unique index once
    per id (SQLite: ``IN (SELECT value FROM json_each(?))``; PostgreSQL: ``= ANY($1)``).
    """
    if dialect == "postgresql":
        return Post.external_id == any_(bindparam(None, ids, type_=ARRAY(String)))
    each = func.json_each(bindparam(None, json.dumps(ids), type_=String)).table_valued("value")
    return Post.external_id.in_(select(each.c.value))


async def _posts_by_key(
    session: AsyncSession, keys: Iterable[tuple[str, str]], columns: Sequence[Any]
) -> dict[tuple[str, str], Any]:
    """Rows of the posts with these ``(platform, external_id)`` keys, by key.

    One ``platform = … AND external_id IN (…)`` per platform: SQLite answers a row-value
    ``(platform, external_id) IN (…)`` by scanning the whole index.
    """
    by_platform: dict[str, list[str]] = defaultdict(list)
    for platform, external_id in keys:
        by_platform[platform].append(external_id)
    found: dict[tuple[str, str], Any] = {}
    selected = list(dict.fromkeys([Post.platform, Post.external_id, *columns]))
    dialect = _dialect(session)
    for platform, ids in by_platform.items():
        rows = await session.execute(
            select(*selected).where(Post.platform == platform, _external_ids_in(dialect, ids))
        )
        for row in rows:
            found[(row.platform, row.external_id)] = row
    return found


async def upsert_posts(
    session: AsyncSession, posts: Sequence[PostRecord] | PostColumns, *, source: str, now: datetime
) -> UpsertResult:
    """Insert new posts and refresh known ones, idempotent on ``(platform, external_id)``.

    A post keyed by a URL that carries the platform's id is keyed by that id, and a post published
    through a review that is still keyed by its URL is matched by permalink first
    (:mod:`bot.kpi.post_matching`), so both refresh the review's row; its author stays the requester.

    A new ``metric_snapshot`` row is written only when the merged metrics differ from the
    post's latest ones, so re-importing a file or re-collecting unchanged posts adds nothing.
    A post without ``account_key`` is a programming error (importers and collectors set it).

    Args:
        posts: records (collectors) or a column-wise chunk (imports); the same post twice: the
            later row wins.
    """
    columns = posts if isinstance(posts, PostColumns) else PostColumns.from_records(posts)
    if (missing := columns.account_key == None).any():  # noqa: E711 (elementwise)
        i = int(np.flatnonzero(missing)[0])
        raise ValueError(f"post {columns.platform[i]}/{columns.external_id[i]} has no account")
    columns = with_platform_ids(columns).last_per_key()
    if not len(columns):
        return UpsertResult()
    await adopt_reviewed_posts(session, columns)
    if len(columns) >= BULK_ROWS and _dialect(session) == "postgresql":
        await _refresh_statistics(session)
    keys = list(zip(columns.platform.tolist(), columns.external_id.tolist(), strict=True))
    existing = await _posts_by_key(session, keys, _POST_COLUMNS)
    old = [existing.get(key) for key in keys] if existing else []
    found = np.fromiter((row is not None for row in old), dtype=bool, count=len(old))
    if not found.any():
        await _insert_new(session, columns, source=source, now=now)
        return UpsertResult(new=len(columns))
    await _insert_new(session, columns.take(~found), source=source, now=now)
    updated = await _refresh_known(
        session, columns.take(found), [row for row in old if row is not None], source=source, now=now
    )
    known = int(found.sum())
    return UpsertResult(new=len(columns) - known, updated=updated, unchanged=known - updated)


async def _refresh_statistics(session: AsyncSession) -> None:
    """``ANALYZE post`` when the table has more than doubled since its statistics were taken.

    NOTE: an import fills ``post`` inside one transaction, so the planner's statistics still
    describe the table as it was (e.g. empty) and it matches only ``platform`` in the unique
    index, filtering the rest: each chunk's lookup then reads every post of the platform, and a
    1M-row import goes quadratic. ANALYZE counts this transaction's own rows and records the size
    it saw (``relpages``, updated in place, so visible at once); doubling keeps it to a few runs
    per import instead of one per chunk (each costs ~0.3 s on a million posts).
    """
    pages, analyzed = (
        await session.execute(
            text(
                "SELECT pg_relation_size(oid) / current_setting('block_size')::int, relpages"
                " FROM pg_class WHERE oid = 'post'::regclass"
            )
        )
    ).one()
    if pages > 2 * max(analyzed, 0):
        await session.execute(text("ANALYZE post"))


async def _insert_new(session: AsyncSession, posts: PostColumns, *, source: str, now: datetime) -> None:
    """Write new posts and their first snapshot straight from the columns (no object per post)."""
    if not len(posts):
        return
    counts, known = merge_metrics(posts, np.zeros_like(posts.counts), np.zeros_like(posts.known))
    reported: npt.NDArray[np.bool_] = np.any(known, axis=1)
    metrics = _nullable(counts, known)
    if _dialect(session) == "postgresql":
        await _copy_new(session, posts, metrics, reported, source=source, now=now)
        return
    _bind_nulls_directly()
    stamp = sqlite_datetimes(np.array([now.astimezone(UTC).replace(tzinfo=None)], dtype="datetime64[us]"))[0]
    rows = list(
        zip(
            posts.account_key.tolist(),
            posts.platform.tolist(),
            posts.external_id.tolist(),
            posts.url.tolist(),
            posts.text.tolist(),
            sqlite_datetimes(posts.published_at),
            posts.author.tolist(),
            repeat(source),
            repeat(stamp),
            np.where(reported, stamp, _NONE).tolist(),
            *metrics,
        )
    )
    connection = await session.connection()
    # A driver-level executemany: the values are already what the SQLite column type would write.
    await connection.exec_driver_sql(
        _insert_sql(connection.dialect, Post.__tablename__, _NEW_POST_COLUMNS), rows
    )
    # The first snapshot of each new post that reported anything is the post's own metrics.
    snapshot = select(
        Post.id,
        literal(now, UTCDateTime()),
        literal(source, String()),
        *(getattr(Post, n) for n in METRIC_FIELDS),
    )
    for platform in dict.fromkeys(posts.platform.tolist()):
        ids = posts.external_id[reported & (posts.platform == platform)].tolist()
        if ids:
            await session.execute(
                insert(MetricSnapshot).from_select(
                    list(_SNAPSHOT_COLUMNS),
                    snapshot.where(Post.platform == platform, _external_ids_in("sqlite", ids)),
                )
            )


def _null(_value: None) -> None:
    return None


def _bind_nulls_directly() -> None:
    """Let the ``sqlite3`` module bind ``None`` without searching for a way to adapt it.

    NOTE: CPython's ``sqlite3`` binds ``int``, ``float``, ``str`` and ``bytearray`` as they are
    but looks every other parameter up: the adapter registry, then ``__adapt__`` on the protocol,
    then ``__conform__`` on the value, and ``None`` fails all three before being bound as NULL
    (~1 µs each, measured; a 1M-post import binds ~4M NULLs, in the driver thread, holding the
    GIL). Registered, the lookup is one dict hit and NULL is bound as before. The registry is
    process-wide; this adapter changes nothing for anyone but the time it takes.
    """
    sqlite3.register_adapter(type(None), _null)


def _insert_sql(dialect: Any, table: str, columns: Sequence[str]) -> str:
    """``INSERT INTO table (columns…) VALUES (?, …)`` with the values in exactly this order."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    return f"INSERT INTO {quote(table)} ({names}) VALUES ({', '.join('?' * len(columns))})"


async def _copy_new(
    session: AsyncSession,
    posts: PostColumns,
    metrics: list[list[int | None]],
    reported: npt.NDArray[np.bool_],
    *,
    source: str,
    now: datetime,
) -> None:
    """PostgreSQL: reserve the ids from the sequence, then COPY the posts and their snapshots."""
    # The driver of this session; imported here so SQLite deployments never load it.
    import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection  # asyncpg, inside the session's transaction
    assert driver is not None
    # One round trip, one array: far cheaper than a result row per id.
    ids: list[int] = await driver.fetchval(
        "SELECT array_agg(nextval(pg_get_serial_sequence('post', 'id'))) FROM generate_series(1, $1)",
        len(posts),
    )
    now_utc = now.astimezone(UTC)
    try:
        await _copy_posts(driver, posts, ids, metrics, reported, source=source, now_utc=now_utc)
    except asyncpg.IntegrityConstraintViolationError as exc:
        # Raw asyncpg under the session: the same error the SQLite path raises through SQLAlchemy.
        raise IntegrityError("COPY post", None, exc) from exc


async def _copy_posts(
    driver: Any,
    posts: PostColumns,
    ids: list[int],
    metrics: list[list[int | None]],
    reported: npt.NDArray[np.bool_],
    *,
    source: str,
    now_utc: datetime,
) -> None:
    await driver.copy_records_to_table(
        "post",
        columns=["id", *_NEW_POST_COLUMNS],
        records=zip(
            ids,
            posts.account_key.tolist(),
            posts.platform.tolist(),
            posts.external_id.tolist(),
            posts.url.tolist(),
            posts.text.tolist(),
            _aware(posts.published_at),
            posts.author.tolist(),
            repeat(source),
            repeat(now_utc),
            np.where(reported, np.array(now_utc, dtype=object), _NONE).tolist(),
            *metrics,
        ),
    )
    keep = np.flatnonzero(reported).tolist()
    if keep:
        await driver.copy_records_to_table(
            "metric_snapshot",
            columns=list(_SNAPSHOT_COLUMNS),
            records=zip(
                [ids[i] for i in keep],
                repeat(now_utc),
                repeat(source),
                *([column[i] for i in keep] for column in metrics),
            ),
        )


async def _refresh_known(
    session: AsyncSession, posts: PostColumns, rows: Sequence[Any], *, source: str, now: datetime
) -> int:
    """Merge new observations into stored posts (row ``i`` of ``posts`` is ``rows[i]``); returns
    how many posts changed."""
    stored = np.array([[getattr(row, name) for name in METRIC_FIELDS] for row in rows], dtype=object)
    old_known = stored != None  # noqa: E711 (elementwise)
    old_counts = np.where(old_known, stored, 0).astype(np.int64)
    counts, known = merge_metrics(posts, old_counts, old_known)
    changed = ((known != old_known) | (known & (counts != old_counts))).any(axis=1)
    merged = np.array(_nullable(counts, known), dtype=object).T if len(rows) else np.empty((0, 0))

    updates: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
    snapshots: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        change: dict[str, Any] = {}
        if changed[i]:
            values = dict(zip(METRIC_FIELDS, merged[i].tolist(), strict=True))
            change.update(values, metrics_at=now)
            snapshots.append({"post_id": row.id, "captured_at": now, "source": source, **values})
        for name, new in (("url", posts.url[i]), ("text", posts.text[i]), ("author", posts.author[i])):
            if name == "author" and row.review_request_id is not None:
                continue  # a review credited its requester; an export's author name does not replace them
            if new and new != getattr(row, name):
                change[name] = new
        if change:
            # Bulk UPDATE by primary key, grouped by the set of changed columns (one shape each).
            updates[frozenset(change)].append({"id": row.id, **change})
    for items in updates.values():
        await session.execute(update(Post), items)
    if snapshots:
        await session.execute(insert(MetricSnapshot), snapshots)
    return sum(len(items) for items in updates.values())
