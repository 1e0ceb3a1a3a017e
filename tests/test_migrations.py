"""Migrations: an empty SQLite and an empty PostgreSQL database go to head and back to base, and the
models agree with the migrations (autogenerate finds no difference)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.util.exc import CommandError
from sqlalchemy import inspect

from bot import db
from bot.models import Base


async def _inspect(url: str) -> tuple[set[str], list[Any], str | None]:
    engine = db.make_engine(url)
    try:
        async with engine.connect() as conn:

            def look(sync_conn: Any) -> tuple[set[str], list[Any], str | None]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                tables = set(inspect(sync_conn).get_table_names())
                return tables, compare_metadata(context, Base.metadata), context.get_current_revision()

            return await conn.run_sync(look)
    finally:
        await engine.dispose()


def _roundtrip(url: str) -> None:
    assert not asyncio.run(db.is_current(url))  # no version table yet
    db.upgrade(url)
    assert asyncio.run(db.is_current(url))
    tables, diff, revision = asyncio.run(_inspect(url))
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert diff == []
    assert revision is not None

    db.upgrade(url)  # a second run has nothing left to do
    (head,) = db.script_heads()
    db.downgrade(url, "-1")
    assert not asyncio.run(db.is_current(url))  # one revision behind
    assert asyncio.run(db.migrate(url))  # so start-up migrates
    assert asyncio.run(_inspect(url))[2] == head
    assert not asyncio.run(db.migrate(url))  # and the next start-up does not
    db.downgrade(url, "base")
    tables, _, revision = asyncio.run(_inspect(url))
    assert tables <= {"alembic_version"}
    assert revision is None
    db.upgrade(url)
    assert asyncio.run(_inspect(url))[1] == []


def test_sqlite_upgrade_downgrade_and_models_agree(tmp_path: Path) -> None:
    _roundtrip(f"sqlite:///{tmp_path / 'fresh.db'}")


@pytest.mark.postgres
def test_postgresql_upgrade_downgrade_and_models_agree(pg_server_url: str) -> None:
    _roundtrip(pg_server_url)


def test_script_heads_are_alembics_heads(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db.alembic_config(f"sqlite:///{tmp_path / 'x.db'}"))
    assert db.script_heads() == frozenset(script.get_heads())


def test_a_database_at_head_starts_without_importing_alembic(tmp_path: Path) -> None:
    """Alembic costs about 0.2 s of start-up; a store already at head never loads it."""
    url = f"sqlite:///{tmp_path / 'head.db'}"
    db.upgrade(url)
    probe = (
        "import asyncio, sys\n"
        "from bot import db\n"
        f"migrated = asyncio.run(db.migrate({url!r}))\n"
        "print(migrated, 'alembic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


async def test_a_newer_or_unreadable_store_is_not_current(tmp_path: Path) -> None:
    """Only exactly the scripts' head skips Alembic: a revision this code does not know (a newer
    release's) goes to ``upgrade``, which refuses it with Alembic's own error."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'newer.db'}"
    await asyncio.to_thread(db.upgrade, url)
    engine = db.make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        await engine.dispose()
    assert not await db.is_current(url)
    with pytest.raises(CommandError, match="9999"):
        await db.migrate(url)
    assert not await db.is_current("postgresql://nobody@127.0.0.1:1/none")


def test_plain_urls_map_to_async_drivers() -> None:
    assert db.async_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
    assert db.async_url("postgresql://u@h/d").drivername == "postgresql+asyncpg"
    assert db.async_url("postgres://u@h/d").drivername == "postgresql+asyncpg"
    with pytest.raises(ValueError):
        db.async_url("mysql://u@h/d")


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    from sqlalchemy import text

    engine = db.make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()
