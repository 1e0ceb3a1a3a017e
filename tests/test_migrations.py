"""Migrations: an empty SQLite and an empty PostgreSQL database go to head and back to base, and the
models agree with the migrations (autogenerate finds no difference)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
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
    db.upgrade(url)
    tables, diff, revision = asyncio.run(_inspect(url))
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert diff == []
    assert revision is not None

    db.upgrade(url)  # a second run has nothing left to do
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
