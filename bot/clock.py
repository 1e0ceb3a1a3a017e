"""Time as a dependency: ``Clock.now()`` returns an aware UTC datetime, ``Clock.sleep()`` waits
(production: system time and ``asyncio.sleep``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a backoff between retries)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FixedClock:
    """A clock that stands still until told to move (tests, previews and the demo).

    ``sleep`` moves it forward by the time slept, at once: a backoff in a test takes no real time
    and the code after it sees the later time.
    """

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        self._at += timedelta(**delta)
        return self._at

    async def sleep(self, seconds: float) -> None:
        self._at += timedelta(seconds=seconds)
        await asyncio.sleep(0)  # still a point where other tasks run, as a real sleep is
