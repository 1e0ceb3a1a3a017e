"""The database misbehaving while the bot runs. PostgreSQL goes away (a TCP proxy in front of the shared
server is cut; the server itself keeps running for the other tests): people get a localized "temporarily
unavailable, nothing was lost" answer, nothing is half-written, /healthz turns 503, and the same actions
work again once the database is back, without a restart. SQLite's "database is locked" under many
concurrent writers is waited out or retried, never shown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.app import build_app, build_deps, build_web_app
from bot.db import make_engine
from bot.kpi.models import KpiValue
from bot.kpi.values import sync_accounts
from bot.models import Base
from bot.review.ids import BlockId
from bot.review.models import ReviewEvent, ReviewRequest
from bot.runtime.deps import Deps
from bot.slack.client import build_web_client
from tests.conftest import BOT_TOKEN, MANAGER, OPERATOR, SIGNING_SECRET, make_settings
from tests.fakes import payloads
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack
from tests.fakes.tcp_proxy import TcpProxy
from tests.reliability.faults_support import (
    count,
    decision_click,
    decision_submission,
    request_submission,
    seed_request,
)

DB_UNAVAILABLE = (
    ":warning: ボットのデータベースに一時的に接続できません。変更は行われておらず、データも失われていません。"
    "1 分ほどおいて、もう一度お試しください。"
)
RECORDED = ":white_check_mark: 2026年11月の採用エントリー数を 12 で記録しました。"


@pytest.fixture
def db_url(tmp_path: Any) -> str:
    """The SQLite tests here; the PostgreSQL ones build their own store behind the proxy."""
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def proxy(pg_url: str) -> AsyncIterator[TcpProxy]:
    target = make_url(pg_url)
    async with TcpProxy(target_host=target.host or "127.0.0.1", target_port=target.port or 5432) as proxy:
        yield proxy


@pytest.fixture
async def pg_deps(pg_url: str, proxy: TcpProxy, fake_slack: FakeSlack, clock: Any) -> AsyncIterator[Deps]:
    """The bot's dependencies with PostgreSQL reached through ``proxy`` (an emptied store)."""
    direct = make_engine(pg_url)
    async with direct.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await direct.dispose()
    url = make_url(pg_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = make_settings(db_url=url, api_url=fake_slack.api_url)
    deps = build_deps(
        settings,
        clock=clock,
        engine=make_engine(url, pool_size=2),
        slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
    )
    async with deps.sessions.begin() as session:
        await sync_accounts(session, accounts=settings.accounts)
    yield deps
    await deps.engine.dispose()


@pytest.fixture
async def pg_client(pg_deps: Deps) -> AsyncIterator[TestClient[Any, Any]]:
    client = TestClient(TestServer(build_web_app(build_app(pg_deps), pg_deps)))
    await client.start_server()
    yield client
    await client.close()
    await pg_deps.inflight.drain(10)


@pytest.fixture
def pg_sender(pg_client: TestClient[Any, Any]) -> SlackSender:
    return SlackSender(pg_client, secret=SIGNING_SECRET)


async def kpi_set(sender: SlackSender, fake: FakeSlack, name: str, *, value: int = 12) -> None:
    fields = payloads.slash_command(
        "/sns-kpi", f"set recruiting_entries {value}", user_id=MANAGER, response_url=fake.response_url(name)
    )
    response = await sender.command(fields)
    assert (response.status, response.body) == (200, b"")  # acknowledged at once, even with no database


def answers(fake: FakeSlack, name: str) -> list[str]:
    return [c.params["text"] for c in fake.calls_to("response_url") if c.path.endswith(f"/{name}")]


@pytest.mark.postgres
async def test_healthz_follows_the_database_down_and_back_up(
    pg_client: TestClient[Any, Any], proxy: TcpProxy
) -> None:
    assert (await pg_client.get("/healthz")).status == 200
    await proxy.cut()
    response = await pg_client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["database"] == "unreachable"
    proxy.restore()
    assert (await pg_client.get("/healthz")).status == 200  # same process, same engine


@pytest.mark.postgres
async def test_kpi_set_while_the_database_is_down_says_so_and_works_when_it_is_back(
    pg_deps: Deps, pg_sender: SlackSender, fake_slack: FakeSlack, proxy: TcpProxy
) -> None:
    await proxy.cut()
    await kpi_set(pg_sender, fake_slack, "down")
    await pg_deps.inflight.drain(10)
    assert answers(fake_slack, "down") == [DB_UNAVAILABLE]

    proxy.restore()
    assert await count(pg_deps, KpiValue) == 0  # nothing was half-written
    await kpi_set(pg_sender, fake_slack, "up")
    await pg_deps.inflight.drain(10)
    assert answers(fake_slack, "up") == [RECORDED]
    assert await count(pg_deps, KpiValue) == 1


@pytest.mark.postgres
async def test_an_approve_click_while_the_database_is_down_says_so_and_works_when_it_is_back(
    pg_deps: Deps, pg_sender: SlackSender, fake_slack: FakeSlack, proxy: TcpProxy
) -> None:
    request = await seed_request(pg_deps)
    await proxy.cut()
    await pg_sender.interactive(decision_click(fake_slack, request, MANAGER, name="down"))
    await pg_deps.inflight.drain(10)
    assert answers(fake_slack, "down") == [DB_UNAVAILABLE]
    assert fake_slack.calls_to("views.open") == []

    proxy.restore()
    await pg_sender.interactive(decision_click(fake_slack, request, MANAGER, name="up"))
    (opened,) = await fake_slack.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "review.approve_modal"
    assert answers(fake_slack, "up") == []


@pytest.mark.postgres
async def test_an_approval_submitted_while_the_database_is_down_keeps_the_form_and_records_later(
    pg_deps: Deps, pg_sender: SlackSender, fake_slack: FakeSlack, proxy: TcpProxy
) -> None:
    request = await seed_request(pg_deps)
    posts_before = len(fake_slack.calls_to("chat.postMessage"))
    await proxy.cut()
    refused = await pg_sender.interactive(decision_submission(request, MANAGER))
    # The modal stays open with the text typed, and says why (inline, on the comment field).
    assert refused.json() == {"response_action": "errors", "errors": {BlockId.COMMENT: DB_UNAVAILABLE}}

    proxy.restore()
    assert await count(pg_deps, ReviewEvent, ReviewEvent.kind == "approved") == 0
    accepted = await pg_sender.interactive(decision_submission(request, MANAGER))
    assert (accepted.status, accepted.body) == (200, b"")
    await pg_deps.inflight.drain(10)
    assert await count(pg_deps, ReviewEvent, ReviewEvent.kind == "approved") == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == posts_before + 2  # thread reply and DM


@pytest.mark.postgres
async def test_a_request_submitted_while_the_database_is_down_is_created_once_when_it_is_back(
    pg_deps: Deps, pg_sender: SlackSender, fake_slack: FakeSlack, proxy: TcpProxy
) -> None:
    await proxy.cut()
    refused = await pg_sender.interactive(request_submission())
    assert refused.json() == {"response_action": "errors", "errors": {BlockId.DRAFT: DB_UNAVAILABLE}}
    proxy.restore()
    accepted = await pg_sender.interactive(request_submission())
    assert (accepted.status, accepted.body) == (200, b"")
    await pg_deps.inflight.drain(10)
    assert await count(pg_deps, ReviewRequest) == 1
    # The channel message and the DM to the requester; a first review also welcomes the managers it
    # reaches (bot.welcome), once each: not a retry of the request.
    posted = [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params.get("text") != pg_deps.t("welcome.fallback")
    ]
    assert len(posted) == 2


@pytest.mark.postgres
async def test_an_event_delivered_while_the_database_is_down_is_handled_on_slacks_retry(
    pg_deps: Deps, pg_sender: SlackSender, fake_slack: FakeSlack, proxy: TcpProxy
) -> None:
    envelope = payloads.event(payloads.app_home_opened(user_id=OPERATOR), event_id="Ev0DBDOWN01")
    await proxy.cut()
    first = await pg_sender.event(envelope)
    assert first.status >= 500  # not acknowledged: Slack delivers it again later
    proxy.restore()
    retry = await pg_sender.event(envelope, retry_num=1, retry_reason="http_error")
    assert retry.status == 200
    await fake_slack.wait_for("views.publish")
    await pg_deps.inflight.drain(10)
    assert len(fake_slack.calls_to("views.publish")) == 1


async def test_many_concurrent_writers_on_sqlite_all_succeed(
    deps: Deps, sender: SlackSender, fake_slack: FakeSlack
) -> None:
    writers = 30
    await asyncio.gather(*(kpi_set(sender, fake_slack, f"w{i}", value=i + 1) for i in range(writers)))
    await deps.inflight.drain(30)
    said = {c.path: c.params["text"] for c in fake_slack.calls_to("response_url")}
    assert len(said) == writers
    for i in range(writers):
        assert said[
            f"/response/w{i}"
        ] == f":white_check_mark: 2026年11月の採用エントリー数を {i + 1} で記録しました。" or said[
            f"/response/w{i}"
        ].startswith(f":white_check_mark: 2026年11月の採用エントリー数を {i + 1} で記録しました（変更前:")
    async with deps.sessions() as session:
        values = sorted((await session.scalars(select(KpiValue.value))).all())
        total = await session.scalar(select(func.count()).select_from(KpiValue))
    assert values == [float(i + 1) for i in range(writers)]
    assert total == writers
    assert json.dumps(said, ensure_ascii=False).count(":warning:") == 0


async def test_database_is_locked_beyond_the_busy_timeout_is_retried() -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from bot.db import with_retry

    attempts: list[int] = []

    async def work() -> str:
        attempts.append(1)
        if len(attempts) < 3:  # what a WAL writer gets when its snapshot went stale (no busy wait)
            raise OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))
        return "written"

    assert await with_retry(work, base_delay=0.001) == "written"
    assert len(attempts) == 3
