"""How the answers grow with the store: /sns-kpi, /sns-kpi KEY with chart, the weekly and monthly digests,
a busy manager's App Home and /sns-review list, built in-process on S/M/L synthetic stores (SQLite and
PostgreSQL), each next to the single SQL aggregate it needs as the baseline (I/O; a dev tool:
``python -m bench.scale --help``).

Each answer calls the same service and ui functions as its listener or job, with a real engine and a
fresh unit of work per repetition, and is split into phases: ``store`` (the service calls inside the
transaction), ``ui`` (Block Kit and its JSON), ``chart`` (the PNG, where there is one). The ratio to the
baseline leaves the chart out: drawing is a constant CPU cost no query can be compared with.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench import data
from bench.common import fmt_ms, machine, parse_list, print_table
from bot.config import Settings
from bot.db import make_engine, make_sessionmaker, unit_of_work
from bot.digest.facts import build_monthly, build_weekly
from bot.digest.render import render_chart
from bot.digest.ui.attachments import build_kpi_csv
from bot.digest.ui.monthly import monthly_message
from bot.digest.ui.weekly import weekly_message
from bot.home import queries as home_queries
from bot.home import ui as home_ui
from bot.i18n import Translator, translator
from bot.kpi import ui as kpi_ui
from bot.kpi.charts import render_trend_chart
from bot.kpi.models import Post
from bot.kpi.queries import kpi_months
from bot.kpi.rules import require_kpi
from bot.kpi.status import assess
from bot.periods import Period, elapsed_share, last_finished, month_of, months_back
from bot.review import listing as review_listing
from bot.review import queries as review_queries
from bot.review.models import ReviewApprover, ReviewRequest

#: Targets of issue 7 at size L (milliseconds); ``None``: reported, no target.
TARGETS_MS: dict[str, float | None] = {
    "kpi_status": 150.0,
    "kpi_detail": None,
    "weekly_digest": 200.0,
    "monthly_digest": 1500.0,
    "home": None,
    "review_list": None,
}
#: Each answer without its chart within this many times its SQL baseline.
BASELINE_FACTOR = 3.0
DETAIL_KPI = "engagement_rate"


# ------------------------------------------------------------------------------------ context


@dataclass(slots=True)
class Phases:
    """Seconds spent per phase in one repetition."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


@dataclass(slots=True)
class Statements:
    """SQL statements sent through the engine (counted by a ``before_cursor_execute`` listener)."""

    count: int = 0

    def seen(self, *_args: object) -> None:
        self.count += 1


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    now: datetime
    t: Translator
    statements: Statements = field(default_factory=Statements)

    @property
    def month(self) -> Period:
        return month_of(self.now.astimezone(self.settings.tz).date())

    def bounds(self, periods: Sequence[Period]) -> tuple[datetime, datetime]:
        tz = self.settings.tz
        return min(p.bounds_utc(tz)[0] for p in periods), max(p.bounds_utc(tz)[1] for p in periods)


Answer = Callable[[Context, Phases], Awaitable[None]]
Baseline = Callable[[AsyncSession, Context], Awaitable[object]]


# ------------------------------------------------------------------------------------ answers


async def kpi_status(ctx: Context, ph: Phases) -> None:
    """``/sns-kpi`` as ``KpiListeners._status`` builds it."""
    settings, month = ctx.settings, ctx.month
    with ph.phase("store"):
        async with unit_of_work(ctx.sessions) as session:
            values = await kpi_months(session, settings=settings, months=[month.previous(), month])
    with ph.phase("ui"):
        elapsed = elapsed_share(month, ctx.now, settings.tz)
        statuses = [assess(k, values[k.key][1], values[k.key][0], elapsed=elapsed) for k in settings.kpis]
        kpi_ui.build_status(
            statuses,
            month=month,
            today=ctx.now.astimezone(settings.tz).date(),
            elapsed=elapsed,
            cmd=settings.slack.kpi_command,
            t=ctx.t,
        ).kwargs()


async def kpi_detail(ctx: Context, ph: Phases) -> None:
    """``/sns-kpi engagement_rate``: 12 months as text, then the trend chart (``KpiListeners._detail``)."""
    settings, t = ctx.settings, ctx.t
    kpi = require_kpi(settings, DETAIL_KPI)
    periods = months_back(ctx.month, 12)
    with ph.phase("store"):
        async with unit_of_work(ctx.sessions) as session:
            values = (await kpi_months(session, settings=settings, months=periods))[kpi.key]
    with ph.phase("ui"):
        status = assess(kpi, values[-1], values[-2], elapsed=elapsed_share(periods[-1], ctx.now, settings.tz))
        kpi_ui.build_detail(kpi, values, periods, status, t=t).kwargs()
    with ph.phase("chart"):
        name = kpi.name.get(t.locale)
        render_trend_chart(
            [kpi_ui.chart_series(kpi, values, t=t)],
            title=t("kpi.detail.chart_title", name=name),
            locale=t.locale,
            target_label=t("kpi.detail.target_label"),
        )


async def weekly_digest(ctx: Context, ph: Phases) -> None:
    """The weekly digest of the last finished week (``digest.render.render`` + the message)."""
    period = last_finished("weekly", ctx.now, ctx.settings.tz)
    with ph.phase("store"):
        async with unit_of_work(ctx.sessions) as session:
            digest = await build_weekly(session, period=period, settings=ctx.settings)
    with ph.phase("ui"):
        weekly_message(digest, settings=ctx.settings, t=ctx.t, channel=data.MGMT_CHANNEL).kwargs()


async def monthly_digest(ctx: Context, ph: Phases) -> None:
    """The monthly digest of the last finished month with its chart and CSV."""
    period = last_finished("monthly", ctx.now, ctx.settings.tz)
    with ph.phase("store"):
        async with unit_of_work(ctx.sessions) as session:
            digest = await build_monthly(session, period=period, settings=ctx.settings)
    with ph.phase("ui"):
        monthly_message(digest, settings=ctx.settings, t=ctx.t, channel=data.MGMT_CHANNEL).kwargs()
        build_kpi_csv(digest, t=ctx.t)
    with ph.phase("chart"):
        render_chart(digest, settings=ctx.settings)


async def home(ctx: Context, ph: Phases) -> None:
    """The App Home of the manager every request waits on (``publish_home`` minus the Slack calls)."""
    with ph.phase("store"):
        async with unit_of_work(ctx.sessions) as session:
            found = await home_queries.load_home(
                session,
                settings=ctx.settings,
                user_id=data.MANAGER,
                is_manager=True,
                can_record=True,
                now=ctx.now,
            )
    with ph.phase("ui"):
        home_ui.build_home(found, settings=ctx.settings, t=ctx.t).to_dict()


async def review_list(ctx: Context, ph: Phases) -> None:
    """``/sns-review list`` for the busy manager (``ReviewListeners._answer_list``)."""
    with ph.phase("store"):
        async with unit_of_work(ctx.sessions) as session:
            result = await review_queries.list_for(session, user_id=data.MANAGER)
    with ph.phase("ui"):
        review_listing.build_list(result, settings=ctx.settings, t=ctx.t).kwargs()


# ------------------------------------------------------------------------------------ baselines


async def _post_totals(session: AsyncSession, start: datetime, end: datetime) -> object:
    return (
        await session.execute(
            select(func.count(), func.sum(Post.impressions), func.sum(Post.engagements)).where(
                Post.published_at >= start, Post.published_at < end
            )
        )
    ).one()


async def base_kpi_status(session: AsyncSession, ctx: Context) -> object:
    return await _post_totals(session, *ctx.bounds([ctx.month.previous(), ctx.month]))


async def base_kpi_detail(session: AsyncSession, ctx: Context) -> object:
    return await _post_totals(session, *ctx.bounds(months_back(ctx.month, 12)))


async def base_weekly(session: AsyncSession, ctx: Context) -> object:
    return await _post_totals(session, *ctx.bounds([last_finished("weekly", ctx.now, ctx.settings.tz)]))


async def base_monthly(session: AsyncSession, ctx: Context) -> object:
    month = last_finished("monthly", ctx.now, ctx.settings.tz)
    return await _post_totals(session, *ctx.bounds(months_back(month, 13)))


async def base_waiting(session: AsyncSession, _ctx: Context) -> object:
    """How many pending requests wait on the manager in their current step."""
    return await session.scalar(
        select(func.count())
        .select_from(ReviewRequest)
        .join(
            ReviewApprover,
            and_(
                ReviewApprover.request_id == ReviewRequest.id,
                ReviewApprover.step == ReviewRequest.current_step,
            ),
        )
        .where(ReviewApprover.user_id == data.MANAGER, ReviewRequest.status == "pending")
    )


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    label: str
    answer: Answer
    baseline: Baseline
    baseline_label: str


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("kpi_status", "/sns-kpi", kpi_status, base_kpi_status, "posts: count+sums, 2 months"),
    Scenario(
        "kpi_detail", "/sns-kpi KEY + chart", kpi_detail, base_kpi_detail, "posts: count+sums, 12 months"
    ),
    Scenario("weekly_digest", "weekly digest", weekly_digest, base_weekly, "posts: count+sums, 1 week"),
    Scenario(
        "monthly_digest",
        "monthly digest + chart",
        monthly_digest,
        base_monthly,
        "posts: count+sums, 13 months",
    ),
    Scenario("home", "App Home (busy manager)", home, base_waiting, "count of reviews waiting on him"),
    Scenario("review_list", "/sns-review list", review_list, base_waiting, "count of reviews waiting on him"),
)


# ------------------------------------------------------------------------------------ measuring


@dataclass(frozen=True, slots=True)
class Measured:
    store: str
    size: str
    scenario: Scenario
    total_ms: float
    phases_ms: dict[str, float]
    baseline_ms: float
    runs: int
    #: SQL statements one repetition of the answer sends (the baseline sends one).
    statements: int

    @property
    def without_chart_ms(self) -> float:
        return self.total_ms - self.phases_ms.get("chart", 0.0)

    @property
    def ratio(self) -> float:
        return self.without_chart_ms / self.baseline_ms if self.baseline_ms else float("nan")


async def measure(ctx: Context, scenario: Scenario, *, reps: int, store: str, size: str) -> Measured:
    """Median over ``reps`` repetitions after one warm-up (query compilation, fonts, caches)."""
    await scenario.answer(ctx, Phases())
    totals: list[float] = []
    phases: list[Phases] = []
    statements: list[int] = []
    for _ in range(reps):
        ph = Phases()
        counted = ctx.statements.count
        started = time.perf_counter()
        await scenario.answer(ctx, ph)
        totals.append(time.perf_counter() - started)
        statements.append(ctx.statements.count - counted)
        phases.append(ph)
    async with unit_of_work(ctx.sessions) as session:
        await scenario.baseline(session, ctx)
    base: list[float] = []
    for _ in range(reps):
        async with unit_of_work(ctx.sessions) as session:
            started = time.perf_counter()
            await scenario.baseline(session, ctx)
            base.append(time.perf_counter() - started)
    names = {n for p in phases for n in p.seconds}
    return Measured(
        store=store,
        size=size,
        scenario=scenario,
        total_ms=statistics.median(totals) * 1000,
        phases_ms={n: statistics.median(p.seconds.get(n, 0.0) for p in phases) * 1000 for n in names},
        baseline_ms=statistics.median(base) * 1000,
        runs=reps,
        statements=max(statements),
    )


async def measure_store(url: str, *, store: str, size: str, reps: int, only: Sequence[str]) -> list[Measured]:
    settings = data.bench_settings(url)
    engine = make_engine(url)
    statements = Statements()
    event.listen(engine.sync_engine, "before_cursor_execute", statements.seen)
    try:
        ctx = Context(settings, make_sessionmaker(engine), data.NOW, translator(settings.locale), statements)
        return [
            await measure(ctx, s, reps=reps, store=store, size=size)
            for s in SCENARIOS
            if not only or s.name in only
        ]
    finally:
        await engine.dispose()


# ------------------------------------------------------------------------------------ report


def report(results: Sequence[Measured], sizes: Sequence[str]) -> None:
    rows = [
        [
            f"{m.store} {m.size}",
            m.scenario.label,
            fmt_ms(m.total_ms),
            fmt_ms(m.phases_ms.get("store", 0.0)),
            fmt_ms(m.phases_ms.get("ui", 0.0)),
            fmt_ms(m.phases_ms["chart"]) if "chart" in m.phases_ms else "-",
            fmt_ms(m.baseline_ms),
            f"{m.ratio:.1f}x",
            str(m.statements),
        ]
        for m in results
    ]
    print_table(
        "Answers (median ms; ratio = (total - chart) / baseline; stmts = SQL statements per answer)",
        ["store size", "answer", "total", "store", "ui", "chart", "baseline", "ratio", "stmts"],
        rows,
        text_columns=2,
    )
    grid: dict[tuple[str, str], dict[str, Measured]] = {}
    for m in results:
        grid.setdefault((m.store, m.scenario.name), {})[m.size] = m
    growth_rows = []
    for (store, name), per_size in grid.items():
        cells = [fmt_ms(per_size[s].total_ms) if s in per_size else "-" for s in sizes]
        first, last = per_size.get(sizes[0]), per_size.get(sizes[-1])
        factor = f"{last.total_ms / first.total_ms:.1f}x" if first and last and len(sizes) > 1 else "-"
        label = next(s.label for s in SCENARIOS if s.name == name)
        growth_rows.append([store, label, *cells, factor])
    print_table(
        f"Growth (median total ms; posts: {', '.join(f'{s}={data.SIZES[s].posts:,}' for s in sizes)})",
        ["store", "answer", *sizes, f"{sizes[-1]}/{sizes[0]}"],
        growth_rows,
        text_columns=2,
    )
    print_table(
        "Baselines",
        ["answer", "the SQL aggregate run alone"],
        [[s.label, s.baseline_label] for s in SCENARIOS],
        text_columns=2,
    )
    top = sizes[-1]
    print(f"\nTargets at {top} (issue 7: L)")
    for m in results:
        if m.size != top:
            continue
        target = TARGETS_MS.get(m.scenario.name)
        if target is not None:
            ok = m.total_ms <= target
            print(
                f"  {'PASS' if ok else 'FAIL'}  {m.store}: {m.scenario.label} {fmt_ms(m.total_ms)} ms"
                f" <= {target:.0f} ms"
            )
            ok = m.ratio <= BASELINE_FACTOR
            print(
                f"  {'PASS' if ok else 'FAIL'}  {m.store}: {m.scenario.label} {m.ratio:.1f}x its baseline"
                f" <= {BASELINE_FACTOR:.0f}x"
            )


# ------------------------------------------------------------------------------------ main


@dataclass(frozen=True, slots=True)
class Options:
    sizes: tuple[str, ...]
    databases: tuple[str, ...]
    reps: int
    only: tuple[str, ...]
    #: Generate into a temporary directory removed afterwards (the smoke run).
    temporary: bool
    clean: bool


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="S,M,L", help="of smoke,S,M,L (default S,M,L)")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite and/or postgres (default both)")
    parser.add_argument("--reps", type=int, default=7, help="repetitions per answer, median kept (default 7)")
    parser.add_argument(
        "--only", default="", help=f"answers to run (of {', '.join(s.name for s in SCENARIOS)})"
    )
    parser.add_argument("--clean", action="store_true", help="drop the cached stores (files and databases)")
    parser.add_argument("--quick", action="store_true", help="smoke size: 1,000 posts, SQLite in a temp dir")
    args = parser.parse_args(argv)
    if args.quick:
        return Options(
            ("smoke",), ("sqlite",), 2, tuple(parse_list(args.only)), Path(tempfile.mkdtemp()), False
        )
    sizes = tuple(parse_list(args.sizes))
    unknown = [s for s in sizes if s not in data.SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; choose from {list(data.SIZES)}")
    return Options(
        sizes, tuple(parse_list(args.db)), args.reps, tuple(parse_list(args.only)), None, args.clean
    )


def clean() -> None:
    for path in data.CACHE_DIR.glob("scale-*.db*"):
        path.unlink()
        print(f"removed {path}")
    with contextlib.suppress(Exception):
        for name in data.drop_postgres_stores():
            print(f"dropped database {name}")


def open_store(kind: str, size: data.Size, cache_dir: Path | None) -> data.Store | None:
    if kind == "sqlite":
        return data.sqlite_store(size, directory=cache_dir or data.CACHE_DIR)
    if kind == "postgres":
        return data.postgres_store(size)
    raise ValueError(f"unknown database kind {kind!r}")


def run(options: Options, *, cache_dir: Path | None = None) -> None:
    print(f"bench.scale: sizes {', '.join(options.sizes)}, {options.reps} reps; {machine()}")
    results: list[Measured] = []
    for kind in options.databases:
        for name in options.sizes:
            size = data.SIZES[name]
            store = open_store(kind, size, cache_dir)
            if store is None:
                continue
            if store.generated_seconds:
                rows = sum(store.counts.values())
                print(
                    f"generated {kind} {name}: {rows:,} rows in {store.generated_seconds:.0f} s ({store.counts})"
                )
            results.extend(
                asyncio.run(
                    measure_store(store.url, store=kind, size=name, reps=options.reps, only=options.only)
                )
            )
    report(results, options.sizes)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    if options.clean:
        clean()
        return 0
    if options.temporary:
        with tempfile.TemporaryDirectory(prefix="sns-bench-scale-") as directory:
            run(options, cache_dir=Path(directory))
        return 0
    run(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
