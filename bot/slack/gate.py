"""A bound on how many listeners do their work after the ack at the same time (Slack I/O, asyncio).

Bolt answers Slack only when a listener's ``ack()`` has been noticed by its runner, which polls every
10 ms on the same event loop as every listener still working after its own ack. Unbounded, a burst of
interactions puts hundreds of such listeners on the loop (database reads, Block Kit, Web API calls),
each poll waits behind all of them, and acks that should take 10 ms take seconds — past Slack's 3 s,
the user sees an error although the bot did the work. Every interaction also finishes late, because
all of them advance a little at a time (processor sharing).

:class:`AfterAck` keeps the work before the ack (validation, a submission's database write) free, and
makes the work after it take a turn: at most ``limit`` listeners run past their ack at once, the rest
wait in arrival order. Acks stay prompt under any burst; what a burst costs is the wait for a turn,
visible as time to the full answer. A listener whose ack Bolt sent before calling it (Events API)
takes its turn on entry.

Two kinds of work cannot wait alike. A modal must open within 3 s of the click (Slack's trigger
expires), a ``response_url`` answer may come minutes later. Listeners that answer by opening a
modal are *urgent*: they take the next free turn before any other waiting work, and one whose turn
comes too late to open its modal does nothing but tell the person to try again
(:data:`TRIGGER_BUDGET`) — the database reads and the refused ``views.open`` would only have made the
backlog longer.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from bot.errors import BotError

#: Default number of listeners working past their ack at once (``[server] max_concurrent_work``).
DEFAULT_LIMIT = 8
#: Longest wait (s) for the writer lock or a database connection before an ack: then the person is
#: told the bot is busy (form kept) instead of Slack showing an error after 3 s.
BEFORE_ACK_WAIT = 0.5
#: Seconds after the request came in beyond which an urgent listener no longer starts its work:
#: Slack's trigger lasts 3 s, and opening the modal takes a database read and a Web API call.
TRIGGER_BUDGET = 2.5


class AfterAck:
    """The turns: ``limit`` of them, handed to waiting urgent work first, then the rest, each in
    arrival order."""

    def __init__(
        self, limit: int = DEFAULT_LIMIT, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.monotonic = monotonic
        self._working = 0
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        """Listeners acked and waiting for their turn (a measure of the backlog)."""
        return len(self._urgent) + len(self._normal)

    @property
    def working(self) -> int:
        return self._working

    def ack_for(self, ack: Any, *, urgent: bool = False) -> GatedAck:
        """The ``ack`` to hand a listener: acks at once, then returns when the listener's turn came."""
        return GatedAck(ack, self, urgent=urgent)

    async def _acquire(self, urgent: bool) -> None:
        if self._working < self.limit and not self.waiting:
            self._working += 1
            return
        queue = self._urgent if urgent else self._normal
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(turn)
        try:
            await turn  # a finishing listener hands its turn over (``_working`` stays the same)
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed over just as we were cancelled: pass it on
            else:
                queue.remove(turn)
            raise

    def _release(self) -> None:
        for queue in (self._urgent, self._normal):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._working -= 1


class GatedAck:
    """Bolt's ``AsyncAck`` for one listener run, holding that run's turn after the ack.

    ``response`` is Bolt's own (the error boundary reads it to know whether the request was acked).
    Call :meth:`release` exactly once when the listener run ends, whatever happened.
    """

    __slots__ = ("_ack", "_arrived", "_gate", "_held", "_urgent")

    def __init__(self, ack: Any, gate: AfterAck, *, urgent: bool = False) -> None:
        self._ack = ack
        self._gate = gate
        self._urgent = urgent
        self._held = False
        self._arrived = gate.monotonic()

    @property
    def response(self) -> Any:
        return getattr(self._ack, "response", None)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._ack(*args, **kwargs)
        await self.take_turn()
        return result

    async def take_turn(self) -> None:
        """Wait for a turn unless this run holds one (the ack went out before: Bolt's auto-ack).

        Raises:
            BotError: ``common.errors.form_expired`` for urgent work whose turn came too late.
        """
        if self._held:
            return
        await self._gate._acquire(self._urgent)
        self._held = True
        if self._urgent and self._gate.monotonic() - self._arrived > TRIGGER_BUDGET:
            raise BotError("common.errors.form_expired")

    def release(self) -> None:
        if self._held:
            self._held = False
            self._gate._release()
