"""Shared fixtures: settings from dicts, a fixed clock, a store on SQLite *and* PostgreSQL, the fake
Slack Web API, and the real Bolt app behind signed HTTP requests."""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app, build_deps, build_web_app
from bot.clock import FixedClock
from bot.config import Settings, settings_from_mapping
from bot.db import make_engine
from bot.models import Base
from bot.runtime.deps import Deps
from bot.slack.client import build_web_client
from tests.fakes.local import database_url, pg_admin
from tests.fakes.signing import SlackSender
from tests.fakes.slack import FakeSlack

BOT_TOKEN = "xoxb-1111-2222-testtokenvalue"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
APP_TOKEN = "xapp-1-A0APP0001-3333-testapptoken"

MANAGER = "U0MANAGER1"
MANAGER2 = "U0MANAGER2"
ADMIN = "U0ADMIN001"
OPERATOR = "U0ALICE01"
GROUP_MEMBER = "U0GROUPM01"
MANAGER_GROUP = "S0MANAGERS"
REVIEW_CHANNEL = "C0REVIEW01"
MGMT_CHANNEL = "C0MGMT0001"

#: A realistic config as a dict; tests deep-copy it and change what they need.
BASE_CONFIG: dict[str, Any] = {
    "locale": "ja",
    "timezone": "Asia/Tokyo",
    "roles": {"managers": [MANAGER, MANAGER2, MANAGER_GROUP], "admins": [ADMIN]},
    "review": {
        "channel": REVIEW_CHANNEL,
        "remind_after_hours": 24,
        "escalate_after_hours": 72,
        "escalation_channel": MGMT_CHANNEL,
    },
    "kpi": {"setters": "managers"},
    "digest": {
        "catch_up_days": 3,
        "weekly": {"channels": [MGMT_CHANNEL], "min_impressions": 100},
        # The one-page PDF costs about two seconds of CPU: only the tests about it turn it on.
        "monthly": {"channels": [MGMT_CHANNEL], "pdf": False},
    },
    "scheduler": {"enabled": True},
    "search_console": {"kpi": "branded_search", "brand_terms": ["example", "イグザンプル"]},
    "accounts": [
        {
            "key": "x_corp",
            "platform": "x",
            "handle": "@example_corp",
            "name": "X 公式",
            "platform_id": "12345",
        },
        {
            "key": "ig_recruit",
            "platform": "instagram",
            "handle": "@example_recruit",
            "name": "Instagram 採用",
        },
    ],
    "kpis": [
        {
            "key": "recruiting_entries",
            "name": {"ja": "採用エントリー数", "en": "Recruiting entries"},
            "unit": "",
            "aggregate": "sum",
            "better": "higher",
            "target": 30,
            "why": {
                "ja": "SNS 経由の応募は採用コストを下げます。",
                "en": "Applications via SNS lower hiring costs.",
            },
        },
        {
            "key": "engagement_rate",
            "name": {"ja": "エンゲージメント率", "en": "Engagement rate"},
            "unit": "%",
            "aggregate": "derived",
            "derive": "engagement_rate",
            "better": "higher",
            "target": 3.0,
            "why": {"ja": "反応の深さを表します。", "en": "How deeply people react."},
        },
        {
            "key": "branded_search",
            "name": {"ja": "指名検索数", "en": "Branded searches"},
            "unit": "",
            "aggregate": "last",
            "better": "higher",
            "target": 12000,
            "why": {"ja": "認知の広がりを示します。", "en": "Shows growing awareness."},
        },
    ],
}

TEST_ENV = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}

#: Wednesday 2026-11-18 10:00 in Tokyo.
NOW = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)


def make_settings(
    *,
    db_url: str = "sqlite:///:memory:",
    env: dict[str, str] | None = None,
    change: Callable[[dict[str, Any]], None] | None = None,
    api_url: str | None = None,
) -> Settings:
    """Settings from :data:`BASE_CONFIG`, optionally changed in place by ``change``."""
    raw = copy.deepcopy(BASE_CONFIG)
    raw["database"] = {"url": db_url}
    if change is not None:
        change(raw)
    environ = dict(TEST_ENV if env is None else env)
    if api_url:
        environ["SLACK_API_URL"] = api_url
    return settings_from_mapping(raw, environ, base=Path.cwd())


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Each test leaves the root logger as it found it: a test (or an in-process CLI run) that
    installs the production handler on a stream that then closes must not break later tests'
    logging ("--- Logging error ---" on stderr)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    loggers = {name: logging.getLogger(name).level for name in list(logging.root.manager.loggerDict)}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in loggers.items():
        logging.getLogger(name).setLevel(old)


# ---------------------------------------------------------------------------------------------
# PostgreSQL: one fresh database per test session, emptied before each test.
# ---------------------------------------------------------------------------------------------


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session (skipped, or failed in CI, without a server)."""
    name = f"sns_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as exc:  # any failure means "no server"
        if _in_ci():
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc!r}")
        pytest.skip(f"PostgreSQL unreachable: {exc!r}")
    url = database_url(name)

    async def create_schema() -> None:
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await engine.dispose()

    asyncio.run(create_schema())
    yield url
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """An *empty* PostgreSQL database (no schema) for migration tests."""
    name = f"sns_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as exc:
        if _in_ci():
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc!r}")
        pytest.skip(f"PostgreSQL unreachable: {exc!r}")
    yield database_url(name)
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test that uses the store runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def unmigrated_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store nothing has touched, for code that migrates it itself (the CLI commands): a new
    SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'imports.db'}"
        return
    request.getfixturevalue("pg_url")  # skips (or fails in CI) when PostgreSQL is unreachable
    name = f"sns_fresh_{uuid.uuid4().hex[:10]}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield database_url(name)
    finally:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            await conn.run_sync(Base.metadata.create_all)
        else:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield engine
    await engine.dispose()


# ---------------------------------------------------------------------------------------------
# Slack
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        slack.usergroups[MANAGER_GROUP] = [GROUP_MEMBER]
        yield slack
        slack.assert_no_invalid_payloads()


@pytest.fixture
def settings(db_url: str, fake_slack: FakeSlack) -> Settings:
    return make_settings(db_url=db_url, api_url=fake_slack.api_url)


@pytest.fixture
async def deps(
    settings: Settings, clock: FixedClock, engine: AsyncEngine, fake_slack: FakeSlack
) -> AsyncIterator[Deps]:
    from bot.kpi.values import sync_accounts

    deps = build_deps(
        settings,
        clock=clock,
        engine=engine,
        slack=build_web_client(token=BOT_TOKEN, base_url=fake_slack.api_url),
    )
    async with deps.sessions.begin() as session:
        await sync_accounts(session, accounts=settings.accounts)
    yield deps
    # Work a test started but did not wait for (a welcome after a review request) ends before the
    # store closes.
    await deps.inflight.drain(10)


@pytest.fixture
async def slack_client(deps: Deps) -> AsyncIterator[TestClient[Any, Any]]:
    """The real HTTP server of the bot (Bolt + /healthz) on a loopback port."""
    app = build_app(deps)
    client = TestClient(TestServer(build_web_app(app, deps)))
    await client.start_server()
    yield client
    await client.close()
    # Listener work continues after the ack; let it finish before the store closes.
    await deps.inflight.drain(10)


@pytest.fixture
def sender(slack_client: TestClient[Any, Any]) -> SlackSender:
    return SlackSender(slack_client, secret=SIGNING_SECRET)
