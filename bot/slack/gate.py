"""A bound on how many listeners do their work after the ack at the same time (Slack I/O, asyncio).

Bolt answers Slack only when a listener's ``ack()`` has been noticed by its runner, which polls every
10 ms on the same event loop as every listener still working after its own ack. Unbounded, a burst of
interactions puts hundreds of such listeners on the loop (database reads, Block Kit, Web API calls),
each poll waits behind all of them, and acks that should take 10 ms take seconds — past Slack's 3 s,
the user sees an error although the bot did the work. Every interaction also finishes late, because
all of them advance a little at a time (processor sharing).

:class:`AfterAck` keeps the work before the ack (validation, a submission's database write) free, and
makes the work after it take a turn: at most ``limit`` listeners run past their ack at once, the rest
wait in arrival order (first come, first answered). Acks stay prompt under any burst; what a burst
costs is the wait for a turn, visible as time to the full answer. A listener whose ack Bolt sent
before calling it (Events API) takes its turn on entry.
"""

from __future__ import annotations

import asyncio
from typing import Any

#: Default number of listeners working past their ack at once (``[server] max_concurrent_work``).
DEFAULT_LIMIT = 8


class AfterAck:
    """The turns: an ``asyncio.Semaphore`` (FIFO among waiters) with a count of who is waiting."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._waiting = 0
        self._working = 0

    @property
    def waiting(self) -> int:
        """Listeners acked and waiting for their turn (a measure of the backlog)."""
        return self._waiting

    @property
    def working(self) -> int:
        return self._working

    def ack_for(self, ack: Any) -> GatedAck:
        """The ``ack`` to hand a listener: acks at once, then returns when the listener's turn came."""
        return GatedAck(ack, self)

    async def _acquire(self) -> None:
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self._working += 1

    def _release(self) -> None:
        self._working -= 1
        self._slots.release()


class GatedAck:
    """Bolt's ``AsyncAck`` for one listener run, holding that run's turn after the ack.

    ``response`` is Bolt's own (the error boundary reads it to know whether the request was acked).
    Call :meth:`release` exactly once when the listener run ends, whatever happened.
    """

    __slots__ = ("_ack", "_gate", "_held")

    def __init__(self, ack: Any, gate: AfterAck) -> None:
        self._ack = ack
        self._gate = gate
        self._held = False

    @property
    def response(self) -> Any:
        return getattr(self._ack, "response", None)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._ack(*args, **kwargs)
        await self.take_turn()
        return result

    async def take_turn(self) -> None:
        """Wait for a turn unless this run holds one (the ack went out before: Bolt's auto-ack)."""
        if not self._held:
            await self._gate._acquire()
            self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._gate._release()
