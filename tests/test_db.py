"""SQLite writers of one process take turns (``unit_of_work(write=True)``): no lost updates, no
"database is locked", first come first written, and a failed writer does not keep the lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import Base, make_engine, make_sessionmaker, unit_of_work
from bot.errors import Busy
from bot.keys import ProcessedKey

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


async def test_read_then_write_units_do_not_lose_updates(sqlite_engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(sqlite_engine)

    async def next_key() -> None:
        async with unit_of_work(sessions, write=True) as session:
            count = await session.scalar(select(func.count()).select_from(ProcessedKey))
            await asyncio.sleep(0)  # let the others run between the read and the write
            session.add(ProcessedKey(key=f"k{count}", created_at=NOW))

    await asyncio.gather(*(next_key() for _ in range(20)))
    async with sessions() as session:
        keys = set((await session.scalars(select(ProcessedKey.key))).all())
    assert keys == {f"k{i}" for i in range(20)}


async def test_writers_go_in_arrival_order(sqlite_engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(sqlite_engine)
    order: list[int] = []

    async def write(n: int) -> None:
        async with unit_of_work(sessions, write=True) as session:
            order.append(n)
            session.add(ProcessedKey(key=f"w{n}", created_at=NOW))
            await asyncio.sleep(0.001)

    tasks = []
    for n in range(8):
        tasks.append(asyncio.create_task(write(n)))
        await asyncio.sleep(0)  # each one arrives before the next
    await asyncio.gather(*tasks)
    assert order == list(range(8))


async def test_a_failed_writer_rolls_back_and_lets_the_next_one_in(sqlite_engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(sqlite_engine)

    with pytest.raises(RuntimeError):
        async with unit_of_work(sessions, write=True) as session:
            session.add(ProcessedKey(key="lost", created_at=NOW))
            await session.flush()
            raise RuntimeError("boom")

    async def kept() -> None:
        async with unit_of_work(sessions, write=True) as session:
            session.add(ProcessedKey(key="kept", created_at=NOW))

    await asyncio.wait_for(kept(), timeout=5)
    async with sessions() as session:
        assert (await session.scalars(select(ProcessedKey.key))).all() == ["kept"]


async def test_readers_do_not_wait_for_a_writer(sqlite_engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(sqlite_engine)
    inside = asyncio.Event()
    release = asyncio.Event()

    async def slow_writer() -> None:
        async with unit_of_work(sessions, write=True) as session:
            session.add(ProcessedKey(key="slow", created_at=NOW))
            await session.flush()
            inside.set()
            await release.wait()

    writer = asyncio.create_task(slow_writer())
    await inside.wait()
    async with unit_of_work(sessions) as session:  # WAL: reads the last committed state at once
        assert await asyncio.wait_for(session.scalar(select(func.count()).select_from(ProcessedKey)), 5) == 0
    release.set()
    await writer


async def test_postgres_units_are_unchanged_by_the_write_flag(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with unit_of_work(sessions, write=True) as session:
        session.add(ProcessedKey(key="pg", created_at=NOW))
    async with sessions() as session:
        assert (await session.scalars(select(ProcessedKey.key))).all() == ["pg"]


async def test_a_writer_that_cannot_start_in_time_is_busy_and_changes_nothing(
    sqlite_engine: AsyncEngine,
) -> None:
    sessions = make_sessionmaker(sqlite_engine)
    inside, release = asyncio.Event(), asyncio.Event()

    async def long_writer() -> None:
        async with unit_of_work(sessions, write=True) as session:
            session.add(ProcessedKey(key="long", created_at=NOW))
            await session.flush()
            inside.set()
            await release.wait()

    writer = asyncio.create_task(long_writer())
    await inside.wait()
    with pytest.raises(Busy) as busy:
        async with unit_of_work(sessions, write=True, start_within=0.05) as session:
            session.add(ProcessedKey(key="late", created_at=NOW))
    assert busy.value.key == "common.errors.busy"
    release.set()
    await writer
    async with unit_of_work(sessions, write=True, start_within=0.05) as session:  # free again
        session.add(ProcessedKey(key="next", created_at=NOW))
    async with sessions() as session:
        assert sorted((await session.scalars(select(ProcessedKey.key))).all()) == ["long", "next"]


async def test_a_unit_that_gets_no_pooled_connection_in_time_is_busy(
    db_url: str, engine: AsyncEngine
) -> None:
    small = make_engine(db_url, pool_size=1, max_overflow=0)
    try:
        sessions = make_sessionmaker(small)
        async with small.connect() as taken:  # the pool's only connection
            await taken.execute(select(1))
            with pytest.raises(Busy):
                async with unit_of_work(sessions, start_within=0.05) as session:
                    session.add(ProcessedKey(key="late", created_at=NOW))
        async with unit_of_work(sessions, start_within=1) as session:
            session.add(ProcessedKey(key="later", created_at=NOW))
        async with sessions() as session:
            assert (await session.scalars(select(ProcessedKey.key))).all() == ["later"]
    finally:
        await small.dispose()
