"""Every real export in ``../shared/real-exports`` imports as what it is (read from there, never copied;
skipped when absent): counts, skipped rows with reasons, stored values, and the KPIs summing days."""

from __future__ import annotations

import csv
import unicodedata
import zipfile
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_deps
from bot.clock import FixedClock
from bot.config import Settings
from bot.i18n import translator
from bot.kpi.import_report import ImportReport, skip_summary
from bot.kpi.imports import import_file
from bot.kpi.models import DailyMetric, Post
from bot.kpi.queries import kpi_months
from bot.kpi.values import sync_accounts
from bot.periods import PeriodKind, parse_period
from bot.runtime.deps import Deps
from tests.conftest import NOW, make_settings

REAL = Path(__file__).resolve().parents[3] / "shared" / "real-exports"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-exports is not here")

X = REAL / "x-twitter"
YT = REAL / "youtube"
GSC = REAL / "search-console"
#: The zip Search Console downloads, as the 7 files name themselves inside it.
ZIP_NAMES = {
    "Queries.csv": "chobble_tickets_Queries.csv",
    "Pages.csv": "chobble_tickets_Pages.csv",
    "Chart.csv": "chobble_tickets_Chart.csv",
    "Countries.csv": "chobble_tickets_Countries.csv",
    "Devices.csv": "chobble_tickets_Devices.csv",
    "Filters.csv": "chobble_tickets_Filters.csv",
    "Search appearance.csv": "chobble_tickets_Search_appearance.csv",
}


def _kpi(key: str, derive: str, accounts: list[str] | None = None) -> dict[str, Any]:
    return {
        "key": key,
        "name": {"ja": key, "en": key},
        "unit": "",
        "aggregate": "derived",
        "derive": derive,
        "better": "higher",
        "why": {"ja": "理由", "en": "why"},
        **({"accounts": accounts} if accounts else {}),
    }


def _config(raw: dict[str, Any]) -> None:
    raw["accounts"] = [
        {"key": "x_ropensci", "platform": "x", "handle": "@rOpenSci"},
        {"key": "x_lisa", "platform": "x", "handle": "@LisaDeBruine"},
        {"key": "yt_main", "platform": "youtube", "handle": "@shorts"},
    ]
    raw["search_console"] = {"kpi": "branded_search", "brand_terms": ["chobble"], "metric": "clicks"}
    raw["kpis"] += [
        _kpi("x_impressions", "daily_impressions", ["x_lisa"]),
        _kpi("x_follows", "daily_follows"),
        _kpi("yt_views", "daily_views", ["yt_main"]),
        _kpi("search_clicks", "search_clicks"),
        _kpi("search_impressions", "search_impressions"),
    ]


@pytest.fixture
def real_settings(db_url: str) -> Settings:
    return make_settings(db_url=db_url, change=_config)


@pytest.fixture
async def real_deps(real_settings: Settings, engine: AsyncEngine) -> AsyncIterator[Deps]:
    deps = build_deps(real_settings, clock=FixedClock(NOW), engine=engine)
    async with deps.sessions.begin() as session:
        await sync_accounts(session, accounts=real_settings.accounts)
    yield deps


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def search_console_zip(tmp_path: Path) -> Path:
    """The performance export as Search Console downloads it, rebuilt from its 7 files."""
    path = tmp_path / "tickets.chobble.com-Performance-on-Search-2026-07-23.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for inner, name in ZIP_NAMES.items():
            archive.write(GSC / name, inner)
    return path


async def _month(deps: Deps, label: str) -> dict[str, float | None]:
    async with deps.sessions() as session:
        months = await kpi_months(
            session, settings=deps.settings, months=[parse_period(PeriodKind.MONTHLY, label)]
        )
    return {key: values[0].value for key, values in months.items()}


async def _scalar(deps: Deps, statement: Any) -> Any:
    async with deps.sessions() as session:
        return await session.scalar(statement)


async def _import(deps: Deps, path: Path, **kwargs: Any) -> ImportReport:
    report = await import_file(deps, path, **kwargs)
    assert report.ok, (path.name, report.error, report.problems[:3])
    return report


async def test_x_exports_are_split_by_the_account_their_permalinks_name(real_deps: Deps) -> None:
    expected = {
        "ropensci_tweet_activity_metrics_rOpenSci_20161201_20170101_en.csv": 37,
        "ropensci_tweet_activity_metrics_rOpenSci_20190301_20190401_en.csv": 38,
        "ropensci_tweet_activity_metrics_rOpenSci_20211101_20211201_en.csv": 33,
        "debruine_tweet_activity_metrics_LisaDeBruine_20210801_20210901_en.csv": 356,
    }
    for name, rows in expected.items():
        report = await _import(real_deps, X / name)  # two X accounts, no --account: rows say whose
        assert (report.format, report.rows, report.posts.new, report.skips) == (
            "x_tweet_activity",
            rows,
            rows,
            (),
        )
        assert report.accounts == (("x_lisa",) if "LisaDeBruine" in name else ("x_ropensci",))
    count = await _scalar(real_deps, select(func.count()).where(Post.account_key == "x_ropensci"))
    assert count == 37 + 38 + 33
    first = _rows(X / "ropensci_tweet_activity_metrics_rOpenSci_20161201_20170101_en.csv")[0]
    impressions = await _scalar(
        real_deps, select(Post.impressions).where(Post.external_id == first["Tweet id"])
    )
    assert impressions == int(float(first["impressions"]))  # "1938.0" is 1938

    again = await _import(real_deps, X / "ropensci_tweet_activity_metrics_rOpenSci_20190301_20190401_en.csv")
    assert (again.posts.new, again.posts.updated, again.posts.unchanged, again.changed) == (0, 0, 38, False)


async def test_x_daily_account_export_feeds_daily_metrics_and_a_monthly_kpi(real_deps: Deps) -> None:
    path = X / "debruine_daily_tweet_activity_metrics_LisaDeBruine_20210801_20210901_en.csv"
    report = await _import(real_deps, path)  # the file name names the account
    rows = _rows(path)
    assert (report.format, report.rows, report.accounts) == ("x_account_daily", 31, ("x_lisa",))
    assert (report.first_day, report.last_day) == (date(2021, 8, 1), date(2021, 8, 31))
    assert report.posts.new == 0 and report.daily.new > 31 * 5
    august = await _month(real_deps, "2021-08")
    assert august["x_impressions"] == sum(int(r["impressions"]) for r in rows)
    assert august["x_follows"] == sum(int(r["follows"]) for r in rows)
    assert (await _month(real_deps, "2021-09"))["x_impressions"] is None  # no day stored: no value
    assert (await _import(real_deps, path)).daily.new == 0  # a day is stored once


async def test_youtube_tables_skip_what_the_platform_writes_and_name_it(real_deps: Deps) -> None:
    t = translator("en")
    suuz = await _import(real_deps, YT / "studio_table_data_suuz_study_9cols.csv")
    assert (suuz.rows, suuz.posts.new, [s.key for s in suuz.skips]) == (25, 24, ["imports.skips.total_row"])

    shorts = await _import(real_deps, YT / "studio_table_data_shorts_channel_2025.csv")
    assert (shorts.posts.new, len(shorts.skips)) == (442, 1)
    # " -i5vAKwX_bY": the id without the space Studio puts before a leading "-".
    assert await _scalar(real_deps, select(Post.video_views).where(Post.external_id == "-i5vAKwX_bY")) == 634

    danger = await _import(real_deps, YT / "studio_content_dangertv_top500_crlf.csv")
    assert (danger.rows, danger.posts.new, len(danger.skips)) == (501, 495, 6)
    summary = skip_summary(t, danger.skips)
    assert summary == (
        "Skipped 6 row(s): no publish time (a private or unlisted video) — line(s) 2, 171, 231, 435, 491; "
        "footer “Showing top 500 results” — line(s) 502."
    )


async def test_youtube_chart_data_is_daily_views_and_never_a_total(real_deps: Deps) -> None:
    await _import(real_deps, YT / "studio_table_data_shorts_channel_2025.csv")
    total = select(func.sum(Post.video_views)).where(Post.platform == "youtube")
    before = await _scalar(real_deps, total)
    chart = YT / "studio_chart_data_shorts_channel_2025_first300.csv"
    report = await _import(real_deps, chart)
    assert (report.format, report.rows, report.daily.new) == ("youtube_chart", 300, 300)
    assert (report.posts.new, report.posts.unchanged) == (0, 1)  # the video is known: left as it is
    assert await _scalar(real_deps, total) == before
    assert await _scalar(real_deps, select(Post.video_views).where(Post.external_id == "2imBUt8eZaI")) == 4010
    stored = await _scalar(
        real_deps,
        select(func.sum(DailyMetric.value)).where(
            DailyMetric.subject == "2imBUt8eZaI", DailyMetric.metric == "views"
        ),
    )
    assert stored == sum(int(r["Views"]) for r in _rows(chart))
    # Per-video days are not the channel's: they do not feed the channel's views KPI.
    assert (await _month(real_deps, "2025-10"))["yt_views"] is None


async def test_youtube_totals_re_saved_by_excel_are_the_channels_daily_views(real_deps: Deps) -> None:
    path = YT / "studio_totals_shorts_channel_2025_excel_resaved.csv"
    report = await _import(real_deps, path)
    assert (report.format, report.rows, report.daily.new) == ("youtube_totals", 365, 365)
    assert (report.first_day, report.last_day) == (date(2025, 6, 13), date(2026, 6, 12))
    july = [r for r in _rows(path) if datetime.strptime(r["Date"], "%d-%m-%Y").month == 7]
    assert len(july) == 31
    assert (await _month(real_deps, "2025-07"))["yt_views"] == sum(int(r["Views"]) for r in july)


async def test_the_search_console_zip_imports_in_one_go(real_deps: Deps, tmp_path: Path) -> None:
    report = await _import(real_deps, search_console_zip(tmp_path), kind="kpi")
    chart = _rows(GSC / "chobble_tickets_Chart.csv")
    assert (report.format, report.daily.new) == ("search_console_zip", 2 * len(chart))
    # "Last 6 months": the period is the chart's days, more than a month, so nothing is recorded
    # as a month's branded search, and the report says so.
    assert (report.first_day, report.last_day) == (date(2026, 3, 15), date(2026, 7, 21))
    queries = [
        r
        for r in _rows(GSC / "chobble_tickets_Queries.csv")
        if "chobble" in unicodedata.normalize("NFKC", r["Top queries"]).casefold()
    ]
    assert report.branded is not None
    assert (report.branded.queries, report.branded.clicks, report.branded.impressions) == (
        len(queries),
        sum(int(r["Clicks"]) for r in queries),
        sum(int(r["Impressions"]) for r in queries),
    )
    assert [n.key for n in report.notes] == ["imports.notes.branded_not_recorded"]
    april = [r for r in chart if r["Date"].startswith("2026-04")]
    months = await _month(real_deps, "2026-04")
    assert months["search_clicks"] == sum(int(r["Clicks"]) for r in april)
    assert months["search_impressions"] == sum(int(r["Impressions"]) for r in april)

    # Told the month, the branded clicks are recorded for it.
    told = await _import(real_deps, search_console_zip(tmp_path), kind="kpi", period="2026-07")
    assert told.kpis.recorded == 1 and told.daily.unchanged == 2 * len(chart)
    assert (await _month(real_deps, "2026-07"))["branded_search"] == report.branded.clicks


async def test_one_non_query_table_of_the_zip_alone_says_import_the_zip_or_queries(real_deps: Deps) -> None:
    tables = (
        "Chart.csv",
        "Pages.csv",
        "Countries.csv",
        "Devices.csv",
        "Filters.csv",
        "Search appearance.csv",
    )
    for name in tables:
        for kind in (None, "kpi", "posts"):
            report = await import_file(real_deps, GSC / ZIP_NAMES[name], kind=kind)
            assert report.error is not None, (name, kind)
            assert report.error.key == "imports.errors.search_console_part", (name, kind)
            text = translator("en")(report.error.key, **report.error.params)
            assert "Import the zip as downloaded, or its Queries.csv" in text
    # Nothing written: Chart.csv alone is not taken as days.
    assert await _scalar(real_deps, select(func.count()).select_from(DailyMetric)) == 0


async def test_every_real_export_imports_with_exit_0(tmp_path: Path) -> None:
    """The command a person runs, over every file (the zip's tables as the zip)."""
    from tests.kpi.cli_support import run_import

    settings = make_settings(db_url=f"sqlite:///{tmp_path / 'cli.db'}", change=_config)
    files = [p for p in sorted(REAL.glob("*/*.csv")) if p.parent.name != "search-console"]
    assert len(files) == 10
    for path in [*files, search_console_zip(tmp_path)]:
        kind = "kpi" if path.suffix == ".zip" or "daily" in path.name or "totals" in path.name else "posts"
        code = await run_import(
            settings,
            kind=kind,
            path=path,
            format_name=None,
            account=None,
            period=None,
            dry_run=False,
            clock=FixedClock(NOW),
        )
        assert code == 0, path.name
