"""The import behind "drop a file into the bot's DM": a dry run counts exactly what the import then
does and writes nothing, and its report reads line for line as ``sns-bot import`` prints it."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.config import Settings
from bot.kpi.import_run import open_export, report_lines, run_import
from bot.kpi.kinds import ValueSource
from bot.kpi.models import Post
from bot.kpi.records import UpsertResult
from tests.conftest import MANAGER, NOW, make_settings
from tests.kpi.cli_support import cli_deps
from tests.kpi.cli_support import run_import as run_cli_import
from tests.kpi.test_cli import POSTS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(db_url=f"sqlite:///{tmp_path / 'bot.db'}")


async def test_dry_run_then_import_and_the_report_is_the_clis(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(POSTS, encoding="utf-8")
    clock = FixedClock(NOW)
    # The command line's report of a dry run (it migrates the store, which the next steps use).
    assert (
        await run_cli_import(
            settings,
            kind="posts",
            path=path,
            format_name=None,
            account=None,
            period=None,
            dry_run=True,
            clock=clock,
        )
        == 0
    )
    cli_lines = capsys.readouterr().out.splitlines()

    async with cli_deps(settings, clock=clock) as deps:
        opened = await asyncio.to_thread(open_export, deps, path)
        preview = await run_import(
            deps, opened, dry_run=True, source=ValueSource.IMPORT_SLACK, user_id=MANAGER
        )
        async with deps.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Post)) == 0
        assert report_lines(preview, deps.t) == cli_lines[:-1]  # all but the CLI's "dry run" line
        assert (preview.kind, preview.posts, preview.accounts) == (
            "posts",
            UpsertResult(3, 0, 0),
            {"x_corp", "ig_recruit"},
        )
        assert (preview.first, preview.last) == (date(2026, 11, 2), date(2026, 11, 6))

        rows: list[int] = []

        async def progress(done: int) -> None:
            rows.append(done)

        opened = await asyncio.to_thread(open_export, deps, path)
        done = await run_import(
            deps, opened, dry_run=False, source=ValueSource.IMPORT_SLACK, user_id=MANAGER, progress=progress
        )
        assert done.posts == preview.posts and rows == [3]
        async with deps.sessions() as session:
            sources = (await session.execute(select(Post.source))).scalars().all()
        assert sources == ["import_slack"] * 3
