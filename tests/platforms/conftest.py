"""Shared fakes for the platform-client tests: fixture loader, recording sleep, fixed clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

DATA = Path(__file__).parent / "data"
#: 2026-09-30 03:00 UTC = 2026-09-29 20:00 in Los Angeles (PDT).
NOW = datetime(2026, 9, 30, 3, 0, tzinfo=UTC)


class RecordingSleep:
    """Stands in for ``asyncio.sleep``: records the requested delays and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def load_json() -> Callable[[str], Any]:
    def load(name: str) -> Any:
        return json.loads((DATA / name).read_text("utf-8"))

    return load


@pytest.fixture
def load_text() -> Callable[[str], str]:
    def load(name: str) -> str:
        return (DATA / name).read_text("utf-8")

    return load


@pytest.fixture
async def mock_http() -> Any:
    """``mock_http(handler)`` -> an ``httpx.AsyncClient`` answered by ``handler``; all closed at teardown."""
    clients: list[httpx.AsyncClient] = []

    def make(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
