"""Fixtures of the KPI store tests: every kind of KPI, over a store whose accounts are synced."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import make_sessionmaker
from bot.kpi.values import sync_accounts
from tests.conftest import make_settings
from tests.kpi.store_support import with_every_kind


@pytest.fixture
def kpi_settings(db_url: str) -> Settings:
    return make_settings(db_url=db_url, change=with_every_kind)


@pytest.fixture
async def sessions(engine: AsyncEngine, kpi_settings: Settings) -> async_sessionmaker[AsyncSession]:
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await sync_accounts(session, accounts=kpi_settings.accounts)
    return sessions
