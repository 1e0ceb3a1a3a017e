"""Synthetic stores for the scale benchmark: settings with 10 KPIs and 8 accounts, and a generator that bulk
loads S/M/L-sized histories into SQLite or PostgreSQL, cached between runs (I/O: files, databases).

The history has a constant *rate* (posts, reviews, wins per week) and grows backwards in time with the
size, so the last week and month look the same at every size and only the amount of history differs:
what a one-week digest reads must not grow from S to L. Rows are written with the drivers' bulk paths
(``sqlite3.executemany`` in one transaction; asyncpg ``copy_records_to_table``) on a store migrated
with the real migrations, so indexes are exactly production's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import BOT_TOKEN, PG_ADMIN_URL, ROOT, SIGNING_SECRET
from bot.config import Settings, settings_from_mapping
from bot.metrics import METRIC_FIELDS
from tests.fakes.local import pg_admin

#: Bump when the generated data changes shape (the cache key also holds the migration head).
GENERATOR_VERSION = 1
CACHE_DIR = ROOT / "bench" / ".cache"

#: Wednesday 2026-11-18 10:00 in Tokyo: "now" for every benchmark (the data ends here).
NOW = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)

POSTS_PER_WEEK = 500
REVIEWS_PER_WEEK = 25
WINS_PER_WEEK = 2
SNAPSHOTS_PER_POST = 3
KPI_MONTHS = 60
#: Pending requests are the ones created in the last days (older ones were decided).
PENDING_DAYS = 14

MANAGER = "U0MANAGER1"  # the busy manager: approver of every request
MANAGER2 = "U0MANAGER2"
ADMIN = "U0ADMIN001"
OPERATORS = tuple(f"U0OPER{i:04d}" for i in range(12))
REVIEW_CHANNEL = "C0REVIEW01"
MGMT_CHANNEL = "C0MGMT0001"


@dataclass(frozen=True, slots=True)
class Size:
    name: str
    posts: int

    @property
    def weeks(self) -> int:
        return max(1, self.posts // POSTS_PER_WEEK)

    @property
    def reviews(self) -> int:
        return self.weeks * REVIEWS_PER_WEEK


SIZES = {
    s.name: s for s in (Size("smoke", 1_000), Size("S", 10_000), Size("M", 100_000), Size("L", 1_000_000))
}

ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("x_corp", "x"),
    ("x_jobs", "x"),
    ("ig_corp", "instagram"),
    ("ig_recruit", "instagram"),
    ("fb_corp", "facebook"),
    ("yt_corp", "youtube"),
    ("tt_corp", "tiktok"),
    ("li_corp", "linkedin"),
)


def _kpi(key: str, name: str, aggregate: str, target: float, **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": {"ja": name, "en": name},
        "aggregate": aggregate,
        "better": "higher",
        "target": target,
        "why": {"ja": "ベンチマーク用の指標です。", "en": "A benchmark KPI."},
        **extra,
    }


#: Ten KPIs: five recorded (daily sum/last/mean, monthly), five derived (two post filters, followers).
KPIS: tuple[dict[str, Any], ...] = (
    _kpi("recruiting_entries", "採用エントリー数", "sum", 300),
    _kpi("branded_search", "指名検索数", "last", 12_000),
    _kpi("web_sessions", "サイト訪問数", "mean", 5_000),
    _kpi("leads", "問い合わせ数", "sum", 40),
    _kpi("nps", "NPS", "last", 30),
    _kpi("engagement_rate", "エンゲージメント率", "derived", 3.0, derive="engagement_rate", unit="%"),
    _kpi("impressions", "インプレッション", "derived", 2_000_000, derive="impressions"),
    _kpi("posts_published", "投稿数", "derived", 2_000, derive="posts_published"),
    _kpi("follower_growth", "フォロワー増加数", "derived", 1_000, derive="follower_growth"),
    _kpi(
        "x_engagement_rate",
        "X エンゲージメント率",
        "derived",
        2.0,
        derive="engagement_rate",
        unit="%",
        accounts=["x_corp", "x_jobs"],
    ),
)
DAILY_KPIS = ("recruiting_entries", "branded_search", "web_sessions")
MONTHLY_KPIS = ("leads", "nps")


def bench_settings(db_url: str) -> Settings:
    """The bot's settings for a synthetic store (ja, Tokyo, 8 accounts, 10 KPIs)."""
    raw: dict[str, Any] = {
        "locale": "ja",
        "timezone": "Asia/Tokyo",
        "database": {"url": db_url},
        "roles": {"managers": [MANAGER, MANAGER2], "admins": [ADMIN]},
        "review": {"channel": REVIEW_CHANNEL, "escalation_channel": MGMT_CHANNEL},
        "digest": {"weekly": {"channels": [MGMT_CHANNEL]}, "monthly": {"channels": [MGMT_CHANNEL]}},
        "accounts": [
            {"key": key, "platform": platform, "handle": f"@{key}", "name": key} for key, platform in ACCOUNTS
        ],
        "kpis": [dict(k) for k in KPIS],
    }
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    return settings_from_mapping(raw, env, base=ROOT)


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Table:
    """Rows for one table, produced lazily (``rows`` is called once per load)."""

    name: str
    columns: tuple[str, ...]
    rows: Iterator[tuple[Any, ...]]


_METRICS = METRIC_FIELDS
_POST_COLUMNS = (
    "id",
    "account_key",
    "platform",
    "external_id",
    "url",
    "text",
    "published_at",
    "author",
    "review_request_id",
    "source",
    "created_at",
    *_METRICS,
    "metrics_at",
)
_SNAPSHOT_COLUMNS = ("id", "post_id", "captured_at", "source", *_METRICS)
_TEXTS = (
    "新商品のお知らせです。詳しくはプロフィールのリンクから。",
    "採用説明会を開催します。ご応募お待ちしています。",
    "本日のイベントの様子をお届けします。",
    "Behind the scenes of our new campaign.",
    "社員インタビュー第{n}回を公開しました。",
)


def _metrics(rng: random.Random, scale: float) -> tuple[int | None, ...]:
    impressions = int(rng.lognormvariate(7.0, 1.2) * scale)
    likes = int(impressions * rng.uniform(0.005, 0.04))
    comments = int(likes * rng.uniform(0.0, 0.2))
    shares = int(likes * rng.uniform(0.0, 0.3))
    saves = int(likes * rng.uniform(0.0, 0.1))
    clicks = int(impressions * rng.uniform(0.0, 0.01))
    engagements = likes + comments + shares + saves + clicks
    reach = int(impressions * rng.uniform(0.6, 0.95))
    return (impressions, reach, engagements, likes, comments, shares, saves, clicks, None)


class _Generator:
    """All rows of one synthetic store, deterministic for a size (seeded)."""

    def __init__(self, size: Size) -> None:
        self.size = size
        self.start = NOW - timedelta(weeks=size.weeks)
        self.span = (NOW - self.start).total_seconds()
        #: Published review requests → the post they became (filled while generating reviews).
        self.published_reviews: dict[int, tuple[str, datetime]] = {}
        self.snapshot_id = 0

    def _when(self, rng: random.Random) -> datetime:
        return self.start + timedelta(seconds=rng.random() * self.span)

    # -- reviews (generated first: published ones point at posts) ---------------------------

    def reviews(self) -> list[Table]:
        rng = random.Random(7)
        requests, revisions, approvers, events = [], [], [], []
        reasons = ("tone", "typo", "legal", "brand", "timing")
        for rid in range(1, self.size.reviews + 1):
            created = self._when(rng)
            requester = rng.choice(OPERATORS)
            account = rng.choice(ACCOUNTS)[0]
            age = NOW - created
            revision = 2 if rng.random() < 0.3 else 1
            roll = rng.random()
            if age < timedelta(days=PENDING_DAYS):
                status = "pending" if roll < 0.8 else "changes_requested"
            else:
                status = "published" if roll < 0.7 else "approved" if roll < 0.85 else "rejected"
            if status == "changes_requested":
                revision = 1  # waiting on the requester's new revision
            decided = (
                None
                if status in ("pending", "changes_requested")
                else created + timedelta(hours=rng.uniform(1, 72))
            )
            if decided is not None and decided >= NOW:
                decided = NOW - timedelta(minutes=1)
            waiting_since = created
            ev: list[tuple[str, str | None, int, datetime, list[str] | None]] = [
                ("requested", requester, 1, created, None)
            ]
            if revision == 2 or status == "changes_requested":
                asked = created + timedelta(hours=rng.uniform(0.5, 10))
                ev.append(("changes_requested", MANAGER, 1, asked, [rng.choice(reasons)]))
                if revision == 2:
                    waiting_since = asked + timedelta(hours=1)
                    ev.append(("resubmitted", requester, 2, waiting_since, None))
            if rng.random() < 0.3:
                ev.append(("commented", MANAGER2, revision, created + timedelta(minutes=30), None))
            if decided is not None:
                if status == "rejected":
                    ev.append(("rejected", MANAGER, revision, decided, [rng.choice(reasons)]))
                else:
                    ev.append(("approved", rng.choice((MANAGER, MANAGER2)), revision, decided, None))
            published_at = None
            if status == "published" and decided is not None:
                published_at = min(decided + timedelta(hours=2), NOW - timedelta(seconds=1))
                ev.append(("published", requester, revision, published_at, None))
                self.published_reviews[rid] = (requester, published_at)
            requests.append(
                (
                    rid,
                    requester,
                    account,
                    status,
                    0,
                    revision,
                    len(ev),
                    None,
                    None,
                    None,
                    "",
                    REVIEW_CHANNEL,
                    f"{created.timestamp():.6f}",
                    created,
                    waiting_since,
                    decided,
                    published_at,
                    created + timedelta(hours=24) if status == "pending" else None,
                    0,
                    None,
                )
            )
            for number in range(1, revision + 1):
                revisions.append((len(revisions) + 1, rid, number, _TEXTS[rid % 4], requester, created))
            for user in (MANAGER, MANAGER2):
                approvers.append((len(approvers) + 1, rid, 0, user, "any"))
            for kind, actor, rev, at, why in ev:
                step = 0 if kind in ("approved", "step_approved", "changes_requested", "rejected") else None
                events.append((len(events) + 1, rid, kind, actor, rev, step, at, None, None, None, why, None))
        return [
            Table(
                "review_request",
                (
                    "id",
                    "requester_id",
                    "account_key",
                    "status",
                    "current_step",
                    "revision",
                    "version",
                    "planned_at",
                    "due_at",
                    "link_url",
                    "feedback_wanted",
                    "channel_id",
                    "message_ts",
                    "created_at",
                    "waiting_since",
                    "decided_at",
                    "published_at",
                    "next_reminder_at",
                    "reminders_sent",
                    "escalated_at",
                ),
                iter(requests),
            ),
            Table(
                "review_revision",
                ("id", "request_id", "number", "text", "author_id", "created_at"),
                iter(revisions),
            ),
            Table("review_approver", ("id", "request_id", "step", "user_id", "mode"), iter(approvers)),
            Table(
                "review_event",
                (
                    "id",
                    "request_id",
                    "kind",
                    "actor_id",
                    "revision",
                    "step",
                    "created_at",
                    "what_works",
                    "what_to_change",
                    "comment",
                    "reasons",
                    "data",
                ),
                iter(events),
            ),
        ]

    # -- posts and their metric history -------------------------------------------------------

    def _posts_and_snapshots(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        rng = random.Random(11)
        linked = iter(sorted(self.published_reviews.items()))
        for pid in range(1, self.size.posts + 1):
            review = next(linked, None) if pid % 20 == 0 else None
            if review is not None:
                rid, (author, published) = review
            else:
                rid, author, published = None, rng.choice(OPERATORS + (None, "sato")), self._when(rng)
            account, platform = ACCOUNTS[pid % len(ACCOUNTS)]
            latest: tuple[int | None, ...] = (None,) * len(_METRICS)
            captured: datetime | None = None
            no_metrics = rng.random() < 0.03
            for n, days in enumerate((1, 7, 30)[:SNAPSHOTS_PER_POST]):
                at = published + timedelta(days=days)
                if no_metrics or at >= NOW:
                    break
                latest = _metrics(rng, 0.6 + 0.2 * n)
                captured = at
                self.snapshot_id += 1
                yield "metric_snapshot", (self.snapshot_id, pid, at, "api", *latest)
            yield (
                "post",
                (
                    pid,
                    account,
                    platform,
                    f"{platform}-{pid}",
                    f"https://example.com/{platform}/{pid}",
                    _TEXTS[pid % len(_TEXTS)].format(n=pid),
                    published,
                    author,
                    rid,
                    "import",
                    published,
                    *latest,
                    captured,
                ),
            )

    # -- everything else (small) --------------------------------------------------------------

    def small_tables(self) -> list[Table]:
        rng = random.Random(13)
        days = self.size.weeks * 7
        first_day = (NOW - timedelta(days=days)).date()
        snapshots = []
        for a, (key, _platform) in enumerate(ACCOUNTS):
            followers = 10_000 * (a + 1)
            for d in range(days):
                followers += rng.randint(-5, 40)
                at = datetime.combine(first_day + timedelta(days=d), datetime.min.time(), UTC) + timedelta(
                    hours=3
                )
                snapshots.append((len(snapshots) + 1, key, followers, at, "api"))
        values, targets = [], []
        month0 = date(NOW.year, NOW.month, 1)
        for m in range(KPI_MONTHS):
            y, mo = divmod(month0.year * 12 + month0.month - 1 - m, 12)
            first = date(y, mo + 1, 1)
            label = f"{first.year:04d}-{first.month:02d}"
            recorded_at = datetime.combine(first, datetime.min.time(), UTC) + timedelta(days=32)
            for key in DAILY_KPIS:
                day = first
                while day.month == first.month and day < NOW.date():
                    values.append(
                        (
                            len(values) + 1,
                            key,
                            label,
                            day,
                            float(rng.randint(1, 900)),
                            "api",
                            None,
                            recorded_at,
                        )
                    )
                    day += timedelta(days=1)
            for key in MONTHLY_KPIS:
                for _ in range(2 if rng.random() < 0.1 else 1):  # a correction now and then (append-only)
                    values.append(
                        (
                            len(values) + 1,
                            key,
                            label,
                            None,
                            float(rng.randint(5, 60)),
                            "slack",
                            MANAGER,
                            recorded_at,
                        )
                    )
            if first.month == 4:
                for kpi in KPIS:
                    targets.append(
                        (len(targets) + 1, kpi["key"], label, float(kpi["target"]) * 1.1, ADMIN, recorded_at)
                    )
        wins = []
        for w in range(self.size.weeks * WINS_PER_WEEK):
            at = self._when(rng)
            wins.append(
                (
                    w + 1,
                    MGMT_CHANNEL,
                    f"{at.timestamp():.6f}",
                    None,
                    rng.choice(OPERATORS),
                    "反響が大きかった投稿です。",
                    rng.choice((None, "impressions")),
                    MANAGER,
                    at,
                )
            )
        runs = []
        week = NOW - timedelta(days=NOW.weekday() + 7)
        for i in range(self.size.weeks):
            start = week - timedelta(weeks=i)
            iso = start.isocalendar()
            runs.append((f"{iso.year}-W{iso.week:02d}", "weekly", start + timedelta(days=7, hours=0)))
        for m in range(1, max(2, self.size.weeks // 4)):
            y, mo = divmod(NOW.year * 12 + NOW.month - 1 - m, 12)
            runs.append((f"{y:04d}-{mo + 1:02d}", "monthly", datetime(y, mo + 1, 28, tzinfo=UTC)))
        digest_runs = [
            (
                i + 1,
                kind,
                period,
                MGMT_CHANNEL,
                "posted",
                "bench",
                None,
                1,
                f"{at.timestamp():.6f}",
                None,
                at,
                at,
            )
            for i, (period, kind, at) in enumerate(runs)
        ]
        collector = []
        for d in range(days):
            at = datetime.combine(first_day + timedelta(days=d), datetime.min.time(), UTC)
            for platform in ("x", "instagram", "facebook", "youtube"):
                collector.append(
                    (len(collector) + 1, platform, at, at + timedelta(seconds=20), "ok", 50, None)
                )
        return [
            Table("account", ("key", "platform", "handle"), iter((k, p, f"@{k}") for k, p in ACCOUNTS)),
            Table(
                "account_snapshot",
                ("id", "account_key", "followers", "captured_at", "source"),
                iter(snapshots),
            ),
            Table(
                "kpi_value",
                ("id", "kpi_key", "month", "day", "value", "source", "recorded_by", "recorded_at"),
                iter(values),
            ),
            Table("kpi_target", ("id", "kpi_key", "month", "value", "set_by", "set_at"), iter(targets)),
            Table(
                "win",
                (
                    "id",
                    "channel_id",
                    "message_ts",
                    "permalink",
                    "message_author",
                    "what_happened",
                    "kpi_key",
                    "nominated_by",
                    "created_at",
                ),
                iter(wins),
            ),
            Table(
                "digest_run",
                (
                    "id",
                    "kind",
                    "period",
                    "channel_id",
                    "status",
                    "claimed_by",
                    "lease_until",
                    "attempts",
                    "message_ts",
                    "error",
                    "created_at",
                    "posted_at",
                ),
                iter(digest_runs),
            ),
            Table(
                "collector_run",
                ("id", "platform", "started_at", "finished_at", "status", "posts_updated", "error"),
                iter(collector),
            ),
        ]


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------

BATCH = 50_000


def _batches(rows: Iterable[tuple[Any, ...]], n: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def _sqlite_value(value: Any) -> Any:
    # The exact text SQLAlchemy's SQLite DATETIME/DATE/JSON types store (comparisons are textual).
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _pg_value(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


class _SqliteWriter:
    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path)
        self._conn.execute("PRAGMA synchronous=OFF")

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        count = 0
        for batch in _batches(rows):
            self._conn.executemany(sql, [tuple(_sqlite_value(v) for v in row) for row in batch])
            count += len(batch)
        return count

    def close(self) -> None:
        self._conn.commit()
        self._conn.close()


class _PgWriter:
    """asyncpg COPY from this (sync) code: one private event loop, driven call by call."""

    def __init__(self, url: str) -> None:
        import asyncpg
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        self._loop = asyncio.new_event_loop()
        self._conn = self._loop.run_until_complete(
            asyncpg.connect(
                host=parsed.host,
                port=parsed.port or 5432,
                user=parsed.username,
                password=parsed.password,
                database=parsed.database,
            )
        )
        self._tables: list[str] = []

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        count = 0
        for batch in _batches(rows):
            records = [tuple(_pg_value(v) for v in row) for row in batch]
            self._loop.run_until_complete(
                self._conn.copy_records_to_table(table, records=records, columns=list(columns))
            )
            count += len(batch)
        self._tables.append(table)
        return count

    def close(self) -> None:
        async def finish() -> None:
            for table in dict.fromkeys(self._tables):
                if table != "account":  # serial ids continue after the copied ones
                    await self._conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT coalesce(max(id), 1) FROM {table}))"
                    )
            # As autovacuum would soon after a bulk load; without statistics the planner guesses.
            await self._conn.execute("ANALYZE")
            await self._conn.close()

        self._loop.run_until_complete(finish())
        self._loop.close()


def _load(writer: _SqliteWriter | _PgWriter, size: Size, *, log: bool) -> dict[str, int]:
    gen = _Generator(size)
    counts: dict[str, int] = {}
    small = gen.small_tables()
    counts["account"] = writer.write(small[0].name, small[0].columns, small[0].rows)
    reviews = gen.reviews()
    for table in reviews:
        counts[table.name] = writer.write(table.name, table.columns, table.rows)
    # Posts and snapshots come interleaved from one pass; posts are written first (foreign key).
    posts: list[tuple[Any, ...]] = []
    snapshots: list[tuple[Any, ...]] = []
    counts["post"] = counts["metric_snapshot"] = 0
    for table_name, row in gen._posts_and_snapshots():
        (posts if table_name == "post" else snapshots).append(row)
        if len(posts) >= BATCH * 4:
            counts["post"] += writer.write("post", _POST_COLUMNS, posts)
            counts["metric_snapshot"] += writer.write("metric_snapshot", _SNAPSHOT_COLUMNS, snapshots)
            posts, snapshots = [], []
            if log:
                print(f"  … {counts['post']:,} posts", flush=True)
    counts["post"] += writer.write("post", _POST_COLUMNS, posts)
    counts["metric_snapshot"] += writer.write("metric_snapshot", _SNAPSHOT_COLUMNS, snapshots)
    for table in small[1:]:
        counts[table.name] = writer.write(table.name, table.columns, table.rows)
    writer.close()
    return counts


# ---------------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------------


def cache_key(size: Size) -> str:
    """Changes when the generator changes; a cached store is migrated to head when opened (a new
    index then costs one index build, as it would in production)."""
    digest = hashlib.sha1(f"{GENERATOR_VERSION}:{size.posts}".encode()).hexdigest()[:8]
    return f"{size.name.lower()}_{digest}"


@dataclass(frozen=True, slots=True)
class Store:
    """A generated store ready to read: its URL and how long generating it took (0 when cached)."""

    url: str
    generated_seconds: float
    counts: dict[str, int]


def sqlite_store(size: Size, *, directory: Path = CACHE_DIR, log: bool = True) -> Store:
    from bot.db import upgrade

    path = directory / f"scale-{cache_key(size)}.db"
    url = f"sqlite:///{path}"
    if path.exists():
        upgrade(url)
        return Store(url, 0.0, {})
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    upgrade(f"sqlite:///{partial}")
    counts = _load(_SqliteWriter(partial), size, log=log)
    partial.rename(path)  # only a complete store gets the final name
    return Store(url, time.perf_counter() - started, counts)


def _pg(sql: str, *, fetch: bool = False) -> Any:
    return asyncio.run(pg_admin(sql, fetch=fetch))


def postgres_store(size: Size, *, log: bool = True) -> Store | None:
    """A kept database ``sns_bench_scale_<key>`` (renamed into place when complete); None without a server."""
    from sqlalchemy.engine import make_url

    from bot.db import upgrade

    name = f"sns_bench_scale_{cache_key(size)}"
    try:
        exists = _pg(f"SELECT 1 FROM pg_database WHERE datname = '{name}'", fetch=True)
    except Exception as exc:  # no server: the caller skips PostgreSQL with a note
        print(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc!r}; skipped")
        return None
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    if exists:
        upgrade(url)
        return Store(url, 0.0, {})
    partial = f"{name}_partial"
    _pg(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)')
    _pg(f'CREATE DATABASE "{partial}"')
    partial_url = make_url(PG_ADMIN_URL).set(database=partial).render_as_string(hide_password=False)
    started = time.perf_counter()
    upgrade(partial_url)
    counts = _load(_PgWriter(partial_url), size, log=log)
    _pg(f'ALTER DATABASE "{partial}" RENAME TO "{name}"')
    return Store(url, time.perf_counter() - started, counts)


def drop_postgres_stores() -> list[str]:
    """Drop every cached scale database (``python -m bench.scale --clean``)."""
    rows = _pg("SELECT datname FROM pg_database WHERE datname LIKE 'sns_bench_scale_%'", fetch=True)
    names = [r["datname"] for r in rows]
    for n in names:
        _pg(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)')
    return names
