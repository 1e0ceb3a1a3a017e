"""PostgreSQL goes away while the bot runs: /healthz turns 503 and recovers by itself when the
database returns, without a restart."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url

from bot.app import build_app, build_deps, build_web_app
from bot.db import make_engine
from tests.conftest import make_settings
from tests.fakes.slack import FakeSlack
from tests.fakes.tcp_proxy import TcpProxy


@pytest.mark.postgres
async def test_healthz_follows_the_database_down_and_back_up(pg_url: str, fake_slack: FakeSlack, clock: Any) -> None:
    target = make_url(pg_url)
    async with TcpProxy(target_host=target.host or "127.0.0.1", target_port=target.port or 5432) as proxy:
        url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        settings = make_settings(db_url=url, api_url=fake_slack.api_url)
        deps = build_deps(settings, clock=clock, engine=make_engine(url, pool_size=2))
        client = TestClient(TestServer(build_web_app(build_app(deps), deps)))
        await client.start_server()
        try:
            assert (await client.get("/healthz")).status == 200

            await proxy.cut()
            response = await client.get("/healthz")
            assert response.status == 503
            assert (await response.json())["database"] == "unreachable"

            proxy.restore()
            assert (await client.get("/healthz")).status == 200  # same process, same engine
        finally:
            await client.close()
            await deps.engine.dispose()
