"""Local resources the tests and benchmarks share: the PostgreSQL admin connection and free ports."""

from __future__ import annotations

import os
import socket
from typing import Any

from sqlalchemy.engine import make_url

#: Where throw-away test databases are created (``.ci/run`` points it at a fresh database per run).
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def pg_admin(sql: str, *, fetch: bool = False) -> Any:
    """Run one statement (e.g. ``CREATE DATABASE``) on the admin connection; ``fetch``: its rows."""
    import asyncpg

    url = make_url(PG_ADMIN_URL)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=5,
    )
    try:
        return await (conn.fetch(sql) if fetch else conn.execute(sql))
    finally:
        await conn.close()


def database_url(name: str) -> str:
    """The URL of database ``name`` on the admin server."""
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
