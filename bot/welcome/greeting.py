"""The :class:`~bot.runtime.ports.Welcome` port: after an ack, find the configured managers among the
people the bot just met (user groups expanded), claim each one's welcome once and send it (I/O:
Slack's user groups, the store, the outbox)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from bot import db
from bot.config import is_user_id, is_usergroup_id
from bot.errors import BotError
from bot.slack.outbox import FAILURES, Owed
from bot.welcome.commands import claim_welcome
from bot.welcome.ids import Via

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)


class Greeter:
    """Welcomes each configured manager once (the claim row makes it once across processes; the set
    below only spares this process a write for someone it has already seen)."""

    def __init__(self, deps: Callable[[], Deps]) -> None:
        self._deps = deps
        self._seen: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def greet(self, user_ids: Iterable[str], *, via: str) -> None:
        """:class:`~bot.runtime.ports.Welcome`: returns at once; the work runs in a tracked task."""
        wanted = [u for u in dict.fromkeys(user_ids) if u and u not in self._seen]
        if not wanted:
            return
        deps = self._deps()
        task = asyncio.get_running_loop().create_task(
            deps.inflight.track(self.welcome)(wanted, Via(via)), name="welcome"
        )
        self._tasks.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the welcomes under way (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _configured_managers(self, ids: list[str]) -> list[str]:
        """The configured managers among ``ids`` (groups in ``ids`` and in ``[roles] managers``
        expanded; admins are not managers here: they set the bot up)."""
        deps = self._deps()
        managers = deps.settings.roles.managers
        groups = [g for g in managers if is_usergroup_id(g)]
        members: set[str] = set()
        for group in groups:
            members |= await deps.directory.members(deps.slack, group)
        people = await deps.directory.expand(deps.slack, ids)
        return [u for u in people if is_user_id(u) and (u in managers or u in members)]

    async def welcome(self, ids: list[str], via: Via) -> None:
        deps = self._deps()
        try:
            people = await self._configured_managers(ids)
        except FAILURES as exc:
            log.warning("welcome: could not tell who is a manager: %r", exc)
            return
        for user_id in people:
            if user_id in self._seen:
                continue

            async def unit(user_id: str = user_id) -> Owed | None:
                async with db.unit_of_work(deps.sessions, write=True) as session:
                    return await claim_welcome(session, user_id=user_id, via=via, now=deps.clock.now())

            try:
                owed = await db.with_retry(unit)
            except BotError as exc:  # the store is away: the next meeting tries again
                log.warning("welcome for %s not claimed: %s", user_id, exc.key)
                continue
            self._seen.add(user_id)
            if owed is not None:
                log.info("welcoming manager %s (via %s)", user_id, via.value)
                await deps.outbox.deliver(owed)
