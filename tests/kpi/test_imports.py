"""``import_file``: the variants real exports come in (written here as small strings, after
../shared/real-exports/README.md), dry-run, and the progress callback."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_deps
from bot.clock import FixedClock
from bot.config import Settings
from bot.i18n import translator
from bot.kpi.import_report import ImportProgress, render_report
from bot.kpi.imports import import_file
from bot.kpi.models import DailyMetric, KpiValue, Post
from bot.kpi.progress import TerminalProgress, progress_text
from bot.kpi.values import sync_accounts
from bot.runtime.deps import Deps
from tests.conftest import NOW, make_settings


def _config(raw: dict[str, Any]) -> None:
    raw["accounts"] = [
        {"key": "x_corp", "platform": "x", "handle": "@example_corp"},
        {"key": "x_recruit", "platform": "x", "handle": "@example_jobs"},
        {
            "key": "ig_corp",
            "platform": "instagram",
            "handle": "@example_ig",
            "platform_id": "17841400000000001",
        },
        {"key": "ig_recruit", "platform": "instagram", "handle": "@example_recruit"},
    ]
    raw["search_console"] = {"kpi": "branded_search", "brand_terms": ["example", "イグザンプル", "ぷらす"]}


@pytest.fixture
async def deps(db_url: str, engine: AsyncEngine) -> AsyncIterator[Deps]:
    settings: Settings = make_settings(db_url=db_url, change=_config)
    deps = build_deps(settings, clock=FixedClock(NOW), engine=engine)
    async with deps.sessions.begin() as session:
        await sync_accounts(session, accounts=settings.accounts)
    yield deps


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# X's current export: quotes only around commas, "Sun, Nov 9, 2025", placeholder rows for posts it
# can no longer show, no final newline; two of our accounts in one file.
X_CONTENT = (
    "Post id,Date,Post text,Post Link,Impressions,Likes,Engagements,Bookmarks,Shares,New follows,Replies,"
    "Reposts,Profile visits,Detail Expands,URL Clicks,Hashtag Clicks,Permalink Clicks\n"
    '1987654321098765432,"Sun, Nov 9, 2025","Hello, world",https://x.com/example_corp/status/1987654321098765432,'
    "1200,30,55,2,1,0,3,4,5,6,7,0,0\n"
    ",,,https://x.com/example_corp/status/undefined,0,0,0,0,0,0,0,0,0,0,0,0,0\n"
    '1987000000000000001,"Sat, Nov 8, 2025",We are hiring,https://x.com/Example_Jobs/status/1987000000000000001,'
    "800,10,20,0,0,1,1,2,0,0,3,0,0\n"
    ",,,https://x.com/example_jobs/status/undefined,0,0,0,0,0,0,0,0,0,0,0,0,0\n"
    '1986000000000000002,"Fri, Nov 7, 2025",Someone else,https://x.com/stranger/status/1986000000000000002,'
    "5,0,0,0,0,0,0,0,0,0,0,0,0"
)


async def test_x_current_export_placeholders_are_skipped_and_rows_split_by_handle(
    deps: Deps, tmp_path: Path
) -> None:
    path = _write(tmp_path, "account_analytics_content_2025-11-01_2025-11-30.csv", X_CONTENT)
    report = await import_file(deps, path)
    assert report.ok and report.format == "x_content"
    assert (report.rows, report.posts.new, report.accounts) == (5, 2, ("x_corp", "x_recruit"))
    assert [(s.line, s.key) for s in report.skips] == [
        (3, "imports.skips.unavailable_post"),
        (5, "imports.skips.unavailable_post"),
        (6, "imports.skips.other_account"),
    ]
    lines = [line for line, _ in render_report(translator("en"), report)]
    assert (
        "Skipped 3 row(s): placeholder for a post X no longer shows — line(s) 3, 5; "
        "account “stranger” is not configured — line(s) 6."
    ) in lines
    async with deps.sessions() as session:
        rows = (await session.execute(select(Post.external_id, Post.account_key, Post.impressions))).all()
    assert sorted(rows) == [
        ("1987000000000000001", "x_recruit", 800),
        ("1987654321098765432", "x_corp", 1200),
    ]


async def test_x_account_option_takes_rows_naming_no_configured_account(deps: Deps, tmp_path: Path) -> None:
    path = _write(tmp_path, "content.csv", X_CONTENT)
    report = await import_file(deps, path, account="x_corp")
    assert report.ok and report.posts.new == 3  # the stranger's row is filed under --account
    assert [s.key for s in report.skips] == ["imports.skips.unavailable_post"] * 2


# Meta Business Suite: another column order than last time, two accounts in one file, empty cells
# for "not available" (never 0), quotes only around cells with spaces.
META = (
    "Permalink,Account username,Post ID,Description,Publish time,Account ID,Account name,Duration (sec),"
    "Post type,Date,Views,Reach,Likes,Shares,Comments,Saves\n"
    'https://www.instagram.com/p/DAa1/,example_ig,18000000000000001,"New office tour",11/03/2026 18:30,'
    "17841400000000001,Example,,IG image,Lifetime,1500,900,120,,4,\n"
    'https://www.instagram.com/reel/DAa2/,example_recruit,18000000000000002,"Meet the team",11/04/2026 09:05,'
    "17841400000000002,Example Jobs,31,IG reel,Lifetime,,,40,2,1,5\n"
)


async def test_meta_columns_in_any_order_several_accounts_and_empty_cells(deps: Deps, tmp_path: Path) -> None:
    path = _write(tmp_path, "Nov-01-2026_Nov-30-2026_1234.csv", META)
    report = await import_file(deps, path, kind="posts")
    assert report.ok and report.format == "instagram_posts"
    assert (report.posts.new, report.accounts) == (2, ("ig_corp", "ig_recruit"))
    async with deps.sessions() as session:
        rows = {
            r.external_id: r
            for r in (
                await session.execute(
                    select(
                        Post.external_id,
                        Post.account_key,
                        Post.impressions,
                        Post.reach,
                        Post.shares,
                        Post.saves,
                    )
                )
            ).all()
        }
    first, second = rows["18000000000000001"], rows["18000000000000002"]
    assert (first.account_key, first.impressions, first.reach, first.shares, first.saves) == (
        "ig_corp",
        1500,
        900,
        None,  # empty: not available, not 0
        None,
    )
    assert (second.account_key, second.impressions, second.reach, second.shares, second.saves) == (
        "ig_recruit",
        None,
        None,
        2,
        5,
    )


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def japanese_search_console_zip(tmp_path: Path) -> Path:
    """A Japanese performance export: localized file names and headers, full-width letters, NFD rows."""
    queries = (
        "上位のクエリ,クリック数,表示回数,CTR,掲載順位\n"
        "ＥＸＡＭＰＬＥ 採用,12,340,3.53%,4.1\n"  # full-width Latin letters
        "example,5,100,5%,1.2\n"
        f"{_nfd('イグザンプル ぷらす')},3,50,6%,2.0\n"  # NFD: ブ/プ as base + combining mark
        f"{_nfd('ぷらす')} 料金,1,20,5%,3.0\n"
        '"競合, 比較",9,900,1%,8.0\n'
    )
    chart = "日付,クリック数,表示回数,CTR,掲載順位\n2026-11-01,10,300,3.3%,5.1\n2026-11-02,11,320,3.4%,5.0\n"
    filters = 'フィルタ,値\n検索タイプ,ウェブ\n日付,"2026/11/01～2026/11/30"\n'
    path = tmp_path / "example.com-Performance-on-Search-2026-12-01.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("クエリ.csv", queries.encode("utf-8-sig"))
        archive.writestr("グラフ.csv", chart.encode("utf-8-sig"))
        archive.writestr("フィルタ.csv", filters.encode("utf-8-sig"))
        archive.writestr("ページ.csv", "上位のページ,クリック数,表示回数,CTR,掲載順位\n".encode())
        archive.writestr(
            "デバイス.csv", "デバイス,クリック数,表示回数,CTR,掲載順位\nモバイル,1,2,50%,1\n".encode()
        )
    return path


async def test_japanese_search_console_zip_matches_brand_terms_after_nfkc(deps: Deps, tmp_path: Path) -> None:
    report = await import_file(deps, japanese_search_console_zip(tmp_path), kind="kpi")
    assert report.ok and report.format == "search_console_zip"
    assert report.branded is not None
    assert (report.branded.queries, report.branded.clicks, report.branded.impressions) == (4, 21, 510)
    # The period is what Filters.csv states: November, so the month's value is recorded.
    assert [n.key for n in report.notes] == ["imports.notes.branded_recorded"]
    assert (report.kpis.recorded, report.daily.new) == (1, 4)
    async with deps.sessions() as session:
        value = await session.scalar(select(KpiValue.value).where(KpiValue.kpi_key == "branded_search"))
        month = await session.scalar(select(KpiValue.month).where(KpiValue.kpi_key == "branded_search"))
    assert (value, month) == (510.0, "2026-11")  # [search_console] metric defaults to impressions
    ja = [line for line, _ in render_report(translator("ja"), report)]
    assert "指名検索: 該当クエリ 4 件、クリック数 21、表示回数 510。" in ja


async def test_a_period_that_disagrees_with_the_file_is_refused(deps: Deps, tmp_path: Path) -> None:
    report = await import_file(deps, japanese_search_console_zip(tmp_path), kind="kpi", period="2026-10")
    assert report.error is not None and report.error.key == "imports.errors.period_disagrees"


async def test_not_a_zip_of_search_console_is_refused(deps: Deps, tmp_path: Path) -> None:
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "hello")
    report = await import_file(deps, path)
    assert report.error is not None and report.error.key == "imports.errors.bad_zip"
    broken = _write(tmp_path, "broken.zip", "PK\x03\x04 not really")
    assert (await import_file(deps, broken)).error.key == "imports.errors.bad_zip"  # type: ignore[union-attr]


async def test_dry_run_reports_exactly_what_an_import_does_and_writes_nothing(
    deps: Deps, tmp_path: Path
) -> None:
    path = japanese_search_console_zip(tmp_path)
    preview = await import_file(deps, path, dry_run=True)
    assert preview.dry_run and preview.ok
    async with deps.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DailyMetric)) == 0
        assert await session.scalar(select(func.count()).select_from(KpiValue)) == 0
    done = await import_file(deps, path)
    assert (done.daily, done.kpis, done.branded) == (preview.daily, preview.kpis, preview.branded)
    assert not done.dry_run


async def test_progress_reaches_the_callback_until_done(deps: Deps, tmp_path: Path) -> None:
    header = "account,url,published_at,text,impressions,engagements,likes,comments,shares,clicks\n"
    body = "".join(
        f"x_corp,https://x.com/example_corp/status/{i},2026-11-02 09:00,t,{i},,1,1,1,1\n" for i in range(50)
    )
    path = _write(tmp_path, "posts.csv", header + body)
    ticks: list[ImportProgress] = []

    async def progress(tick: ImportProgress) -> None:
        ticks.append(tick)

    report = await import_file(deps, path, progress=progress, chunk_rows=20)
    assert report.ok and report.posts.new == 50
    assert [t.rows for t in ticks] == [20, 40, 50, 50]
    assert ticks[-1].done and ticks[-1].fraction == 1.0
    assert all(t.fraction is not None and 0 < t.fraction <= 1 for t in ticks)


def test_terminal_progress_draws_a_bar_on_a_tty_and_plain_lines_elsewhere() -> None:
    t = translator("en")
    tick = ImportProgress(rows=120_000, fraction=0.5, elapsed=3.0)
    assert progress_text(t, tick, bar=True) == (
        "[############············]  50%  120,000 rows read…  40,000 rows/s  ETA 0:03"
    )
    assert progress_text(t, tick, bar=False) == "120,000 rows read…  40,000 rows/s  ETA 0:03"

    async def feed(progress: TerminalProgress) -> None:
        await progress(tick)
        await progress(ImportProgress(rows=240_000, fraction=1.0, elapsed=6.0, done=True))
        progress.close()

    import asyncio

    tty = io.StringIO()
    asyncio.run(feed(TerminalProgress(t, tty, tty=True)))
    assert tty.getvalue().startswith("\r\x1b[2K[############") and tty.getvalue().endswith("\n")
    assert "240,000 rows read…" in tty.getvalue()

    plain = io.StringIO()
    asyncio.run(feed(TerminalProgress(t, plain, tty=False, interval=0.0)))
    assert (
        plain.getvalue() == "120,000 rows read…  40,000 rows/s  ETA 0:03\n"
    )  # no bar, one line per interval
