"""The store: declarative base, async engine/session factories and migrations (I/O at call time only).

Plain ``sqlite:///…`` and ``postgresql://…`` URLs are accepted and mapped to the async drivers
(aiosqlite, asyncpg). SQLite runs in WAL mode with foreign keys on and a busy timeout, so
concurrent writers wait instead of failing with "database is locked".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from bot.errors import Busy, Unavailable

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

T = TypeVar("T")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no offset; this puts UTC back on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def async_url(url: str) -> URL:
    """Map a plain database URL to its async driver (``sqlite`` → aiosqlite, ``postgresql`` → asyncpg)."""
    parsed = make_url(
        url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url
    )
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database backend: {backend}")


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        database = target.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(target, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_async_engine(target, **kwargs)


def dialect_insert(session: AsyncSession) -> Any:
    """The ``insert`` of the session's dialect, the one with ``on_conflict_do_nothing`` / ``_update``.

    Imported on first use: the PostgreSQL dialect module alone costs a SQLite bot ~50 ms of start-up.
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine, *, timeout: float = 2.0) -> bool:
    """True when the database answers ``SELECT 1`` within ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return True
    except (TimeoutError, OSError, DBAPIError, OperationalError) as exc:
        log.warning("database ping failed: %s", type(exc).__name__)
        return False


_CONNECTION_ERROR_NAMES = frozenset(
    {
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "ConnectionFailureError",
        "AdminShutdownError",
        "InterfaceError",
        "TooManyConnectionsError",
    }
)


def is_unavailable_error(exc: BaseException) -> bool:
    """Connection-level failures (database down, network), as opposed to bugs or constraint errors."""
    if isinstance(exc, OSError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        if isinstance(orig, OSError | TimeoutError):
            return True
        return type(orig).__name__ in _CONNECTION_ERROR_NAMES
    return False


def is_locked_error(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig).lower()


async def with_retry(work: Callable[[], Awaitable[T]], *, attempts: int = 5, base_delay: float = 0.05) -> T:
    """Run a unit of work again when SQLite says "database is locked" (beyond the busy timeout).

    Raises:
        Unavailable: when the database cannot be reached, so the caller can tell the user
            that nothing was changed.
    """
    for attempt in range(attempts):
        try:
            return await work()
        except OperationalError as exc:
            if is_locked_error(exc) and attempt < attempts - 1:
                await asyncio.sleep(base_delay * (2**attempt))
                continue
            if is_unavailable_error(exc):
                raise Unavailable("common.errors.db_unavailable") from exc
            raise
        except (OSError, DBAPIError) as exc:
            if is_unavailable_error(exc):
                raise Unavailable("common.errors.db_unavailable") from exc
            raise
    raise AssertionError("unreachable")


#: One in-process writer lock per SQLite engine (see :func:`unit_of_work`).
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def _sqlite_writer_lock(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    bind = sessions.kw.get("bind")
    engine = getattr(bind, "sync_engine", None)
    if engine is None or engine.dialect.name != "sqlite":
        return None
    lock = _SQLITE_WRITERS.get(engine)
    if lock is None:
        lock = _SQLITE_WRITERS[engine] = asyncio.Lock()
    return lock


def writer_lock(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    """This process's SQLite writer lock (see :func:`unit_of_work`), for a long transaction that
    manages its own commit (an import from Slack); ``None`` on PostgreSQL."""
    return _sqlite_writer_lock(sessions)


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], *, write: bool = False, start_within: float | None = None
) -> AsyncIterator[AsyncSession]:
    """One transaction; connection failures surface as :class:`Unavailable` (nothing was written).

    ``write=True`` marks a unit that writes, on SQLite: it waits for this process's writer lock (an
    ``asyncio.Lock``, woken in arrival order the moment the previous writer commits), then takes the
    database's write lock up front (``BEGIN IMMEDIATE``). Without it, concurrent writers of one process
    queue inside SQLite's busy handler, which sleeps up to 100 ms between tries in each connection's
    thread: under a burst of submissions, acks waited seconds for a lock that was free most of the
    time. Other processes (a replica, ``sns-bot import``) still meet this one in the busy handler.
    PostgreSQL needs neither: its row locks queue writers itself.

    ``start_within`` (seconds): work that must finish before an ack (a modal submission) gives up
    with :class:`~bot.errors.Busy` when the writer lock or a pooled connection is not its own by
    then — a prompt "busy, submit again" with the form kept beats an ack past Slack's 3 s.
    """
    lock = _sqlite_writer_lock(sessions) if write else None
    deadline = None if start_within is None else asyncio.get_running_loop().time() + start_within
    try:
        async with contextlib.AsyncExitStack() as held:
            if lock is not None:
                await _before(deadline, lock.acquire())
                held.callback(lock.release)
            async with sessions.begin() as session:
                if deadline is not None:
                    await _before(deadline, session.connection())  # a pooled connection, no statement yet
                if lock is not None:
                    await session.execute(text("BEGIN IMMEDIATE"))
                yield session
    except (OSError, DBAPIError) as exc:
        if is_unavailable_error(exc):
            raise Unavailable("common.errors.db_unavailable") from exc
        raise


async def _before(deadline: float | None, waiting: Awaitable[Any]) -> None:
    """Wait for a lock or a pooled connection until ``deadline`` (loop time); then :class:`Busy`.

    Only waits *before* the transaction's first statement are bounded: a unit is never cut short
    once it has written, so "busy" always means nothing was changed.
    """
    if deadline is None:
        await waiting
        return
    try:
        async with asyncio.timeout_at(deadline):
            await waiting
    except TimeoutError:
        raise Busy("common.errors.busy") from None


# ---------------------------------------------------------------------------------------------
# Migrations
# ---------------------------------------------------------------------------------------------

MIGRATION_LOCK_ID = 0x5E5B07  # PostgreSQL advisory lock id for "sns-bot migrations"


#: Where :func:`alembic_config` hands the database URL to ``migrations/env.py``.
URL_ATTRIBUTE = "sns_bot_database_url"


def alembic_config(url: str) -> Any:
    """An Alembic ``Config`` for ``url`` built in code (no alembic.ini needed at run time).

    The URL travels in ``Config.attributes``, not as the ``sqlalchemy.url`` option: options go
    through configparser, whose interpolation takes the ``%`` of a percent-encoded password
    (``S3cr%40t``, the normal form of a password holding ``@:/``) for a reference, and its error
    message shows the whole URL, password included.
    """
    from alembic.config import Config

    import migrations

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.attributes[URL_ATTRIBUTE] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def script_heads() -> frozenset[str]:
    """Head revision(s) of the migration scripts, read from their source with :mod:`ast`.

    Importing Alembic and the scripts costs about 0.2 s of every start-up; reading the
    ``revision`` / ``down_revision`` assignments of a handful of files costs about a millisecond.
    """
    import ast

    import migrations

    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (Path(migrations.__file__).parent / "versions").glob("*.py"):
        values: dict[str, Any] = {}
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign):
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(value) if value is not None else None
        if "revision" not in values:
            continue
        revisions.add(values["revision"])
        down = values.get("down_revision")
        parents.update((down,) if isinstance(down, str) else (down or ()))
    return frozenset(revisions - parents)


async def is_current(url: str) -> bool:
    """True when the database's Alembic revision(s) are exactly the scripts' head(s).

    Anything else (no version table, an older or a newer revision, a database that does not
    answer) is False, and :func:`upgrade` gives the authoritative answer or error.
    """
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            stored = frozenset(rows.scalars())
    except (OSError, DBAPIError):
        return False
    finally:
        await engine.dispose()
    return bool(stored) and stored == script_heads()


async def migrate(url: str) -> bool:
    """Bring the database to the scripts' head; False (and no Alembic import) when it is there."""
    if await is_current(url):
        return False
    await asyncio.to_thread(upgrade, url)
    return True


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (blocking; run it in a thread from async code).

    On PostgreSQL the upgrade holds an advisory lock, so replicas starting together migrate one
    after another; the later ones find nothing left to do.
    """
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)
