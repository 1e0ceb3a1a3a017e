"""Fixtures of the review store tests: a store with the configured accounts, and one transaction per call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import make_sessionmaker
from bot.kpi.values import sync_accounts
from tests.review.store_support import SETTINGS

T = TypeVar("T")


@pytest.fixture
async def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    maker = make_sessionmaker(engine)
    async with maker.begin() as session:
        await sync_accounts(session, accounts=SETTINGS.accounts)
    return maker


@pytest.fixture
def run(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[Callable[[AsyncSession], Awaitable[T]]], Awaitable[T]]:
    async def in_tx(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with sessions.begin() as session:
            return await work(session)

    return in_tx
