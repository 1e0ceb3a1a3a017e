"""Counts listener and job runs still in progress, so SIGTERM can let them finish before closing
the database (Bolt runs listeners on after the ack, as fire-and-forget tasks)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class InFlight:
    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    def track(self, func: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        """Wrap an async listener or job; ``functools.wraps`` keeps the argument names Bolt injects by.

        The wrapper is a coroutine function, so its call can go straight to ``asyncio.create_task``.
        """

        @functools.wraps(func)
        async def tracked(*args: P.args, **kwargs: P.kwargs) -> R:
            self._count += 1
            self._idle.clear()
            try:
                return await func(*args, **kwargs)
            finally:
                self._count -= 1
                if self._count == 0:
                    self._idle.set()

        return tracked

    async def drain(self, timeout: float) -> bool:
        """Wait until nothing is in flight (True) or ``timeout`` passes (False)."""
        try:
            async with asyncio.timeout(timeout):
                # A run may start work that starts only after the run ends (a task it created, e.g. a
                # debounced Home publish): the event was set in between, so look at the count again.
                while True:
                    await self._idle.wait()
                    await asyncio.sleep(0)  # let tasks created by the last run start
                    if self._count == 0:
                        return True
        except TimeoutError:
            return False
