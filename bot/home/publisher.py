"""Coalesced Home publishing: ``request(user_id)`` schedules a ``views.publish`` shortly after, and a burst
of requests for one user becomes one publish (I/O: asyncio tasks; the publish itself is injected).

Why a debounce and one task per user: a single decision changes the Home of its requester and every
approver, and an import of 500 KPI values changes everybody's; publishing on each change would spend
Slack's rate limit on views nobody sees in between. Rules, per user:

- the first request starts a task that waits ``debounce`` seconds, then publishes;
- requests while the task waits are absorbed by that publish;
- a request while the task publishes marks the user dirty, and the task publishes exactly once more
  (the data it read may predate the change);
- users are independent: a slow publish for one never delays another's.

The caller never waits (``request`` is synchronous), so listeners call it after their ack and jobs
after their commit. Tasks go through ``InFlight.track`` so SIGTERM lets pending publishes finish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from bot.slack.inflight import InFlight

log = logging.getLogger(__name__)

#: Default wait before publishing: long enough to merge one interaction's changes, short enough
#: that the Home looks instant.
DEFAULT_DEBOUNCE = 0.3

Publish = Callable[[str], Awaitable[None]]


class HomePublisher:
    def __init__(self, publish: Publish, *, inflight: InFlight, debounce: float = DEFAULT_DEBOUNCE) -> None:
        self._publish = publish
        self._inflight = inflight
        self._debounce = debounce
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        #: Users whose Home this process has published (``request_all`` refreshes them).
        self._known: set[str] = set()

    @property
    def known_users(self) -> frozenset[str]:
        return frozenset(self._known)

    def pending(self, user_id: str) -> bool:
        return user_id in self._tasks

    def request(self, user_id: str) -> None:
        """Publish ``user_id``'s Home soon (needs a running event loop; never blocks)."""
        if not user_id:
            return
        if user_id in self._tasks:
            self._dirty.add(user_id)
            return
        self._dirty.discard(user_id)
        self._tasks[user_id] = asyncio.get_running_loop().create_task(
            self._inflight.track(self._run)(user_id), name=f"home-publish-{user_id}"
        )

    def show(self, user_id: str) -> None:
        """:class:`~bot.runtime.ports.HomeRefresh`: ``user_id`` opened their Home; publish it soon."""
        self.request(user_id)

    def refresh(self, user_ids: Iterable[str] | None = None) -> None:
        """:class:`~bot.runtime.ports.HomeRefresh`: republish the Homes a change affects, soon and
        coalesced; never waits.

        Args:
            user_ids: the users whose Home changed; ``None`` means everybody this process has shown a
                Home to (changes everyone sees, such as a new KPI value or a posted digest).
        """
        if user_ids is None:
            self.request_all()
        else:
            # Only Homes this process has shown: Slack keeps the last published view, and opening the
            # Home publishes it afresh, so a publish for someone who never looked is wasted work.
            self.request_many(u for u in user_ids if u in self._known)

    def request_many(self, user_ids: Iterable[str]) -> None:
        for user_id in dict.fromkeys(user_ids):
            self.request(user_id)

    def request_all(self) -> None:
        """Refresh every Home this process has published (a change everybody sees, e.g. a KPI value)."""
        self.request_many(sorted(self._known))

    async def _run(self, user_id: str) -> None:
        try:
            while True:
                await asyncio.sleep(self._debounce)
                # Requests until now are served by this publish; later ones set the flag again.
                self._dirty.discard(user_id)
                await self._publish_once(user_id)
                if user_id not in self._dirty:
                    return
        finally:
            self._tasks.pop(user_id, None)
            self._dirty.discard(user_id)

    async def _publish_once(self, user_id: str) -> None:
        try:
            await self._publish(user_id)
        except Exception:  # a background task has nobody to answer; the next change retries
            log.exception("publishing the App Home of %s failed", user_id)
            return
        self._known.add(user_id)

    async def drain(self) -> None:
        """Wait until no publish is scheduled or running (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
