"""Who is who: user groups (``S…``) resolved to members through ``usergroups.users.list``, kept in a
per-process cache, and the manager/admin checks that depend on them (Slack I/O).

The rule (issue 13): **nothing waits on Slack before an ack.**

- Code that runs before an ack reads the cache only (:meth:`Directory.known`,
  :meth:`Directory.expand_known`, :meth:`Directory.is_manager_known`): a group never resolved in
  this process is reported as *unresolved*, never silently left out, and the caller decides what the
  person sees (a review request keeps the group itself as a stand-in approver; the App Home's KPI form
  asks to submit again).
- Code that runs after its ack may ask Slack (:meth:`Directory.resolve`, :meth:`Directory.members`,
  :meth:`Directory.expand`, :meth:`Directory.is_manager`), waiting at most ``wait`` seconds.
- Stale-while-revalidate: an answer older than ``ttl`` (5 minutes) is still used at once, and a
  refresh starts in the background; one fetch per group runs at a time (later callers join it); a
  failed fetch keeps the last answer. Every configured group is fetched at start-up
  (:meth:`Directory.warm`), so the cache is warm before the first request in practice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.config import Settings, is_usergroup_id

log = logging.getLogger(__name__)

#: Seconds a caller after its ack waits for a group Slack has not answered for yet.
DEFAULT_WAIT = 5.0


@dataclass(frozen=True, slots=True)
class Expansion:
    """User ids (de-duplicated, first-seen order) and the user groups whose members are not known."""

    users: tuple[str, ...]
    unresolved: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Entry:
    members: frozenset[str]
    fetched_at: datetime


class Directory:
    def __init__(self, *, settings: Settings, clock: Clock, ttl: timedelta = timedelta(minutes=5)) -> None:
        self._settings = settings
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[str, _Entry] = {}
        self._fetching: dict[str, asyncio.Task[frozenset[str] | None]] = {}

    # -- configuration ----------------------------------------------------------------------

    def configured_groups(self) -> tuple[str, ...]:
        """Every user group the config names: managers and the accounts' approval steps."""
        ids: list[str] = list(self._settings.roles.managers)
        for account in self._settings.accounts:
            for step in account.approval:
                ids.extend(step.approvers)
        return tuple(dict.fromkeys(i for i in ids if is_usergroup_id(i)))

    # -- the cache only: safe before an ack --------------------------------------------------

    def known(self, group_id: str) -> frozenset[str] | None:
        """The members last heard of (however old), or ``None`` when never resolved here."""
        entry = self._entries.get(group_id)
        return entry.members if entry else None

    def expand_known(self, ids: Iterable[str]) -> Expansion:
        """User ids and user-group ids → user ids from the cache, and the groups it does not know."""
        users: dict[str, None] = {}
        unresolved: dict[str, None] = {}
        for item in ids:
            if not is_usergroup_id(item):
                users.setdefault(item, None)
            elif (members := self.known(item)) is None:
                unresolved.setdefault(item, None)
            else:
                for member in sorted(members):
                    users.setdefault(member, None)
        return Expansion(tuple(users), tuple(unresolved))

    def is_manager_known(self, user_id: str) -> bool | None:
        """Manager (or admin) by the cache; ``None`` when it depends on a group not resolved yet."""
        if user_id in self._settings.roles.managers or self._settings.is_admin(user_id):
            return True
        expansion = self.expand_known(self._settings.roles.managers)
        if user_id in expansion.users:
            return True
        return None if expansion.unresolved else False

    # -- may ask Slack: after an ack only ----------------------------------------------------

    async def resolve(
        self, client: AsyncWebClient, group_id: str, *, wait: float = DEFAULT_WAIT
    ) -> frozenset[str] | None:
        """The group's members; ``None`` when Slack gave no answer within ``wait`` seconds (the fetch
        goes on in the background and fills the cache when Slack answers)."""
        entry = self._entries.get(group_id)
        if entry is not None:
            if self._clock.now() - entry.fetched_at >= self._ttl:
                self._fetch(client, group_id)  # stale: used now, refreshed meanwhile
            return entry.members
        try:
            async with asyncio.timeout(wait):
                return await asyncio.shield(self._fetch(client, group_id))
        except TimeoutError:
            log.warning("usergroups.users.list %s: no answer within %.1fs", group_id, wait)
            return None

    def refresh(self, client: AsyncWebClient, group_ids: Iterable[str]) -> None:
        """Start background fetches for the groups that are missing or stale (never waits)."""
        now = self._clock.now()
        for group_id in group_ids:
            entry = self._entries.get(group_id)
            if entry is None or now - entry.fetched_at >= self._ttl:
                self._fetch(client, group_id)

    async def warm(self, client: AsyncWebClient) -> None:
        """Fetch every configured group (at start-up, after the server is up)."""
        groups = self.configured_groups()
        if groups:
            await asyncio.gather(*(self._fetch(client, g) for g in groups))
            log.info("user groups loaded: %d of %d", sum(g in self._entries for g in groups), len(groups))

    async def members(
        self, client: AsyncWebClient, group_id: str, *, wait: float = DEFAULT_WAIT
    ) -> frozenset[str]:
        return await self.resolve(client, group_id, wait=wait) or frozenset()

    async def expand(
        self, client: AsyncWebClient, ids: Sequence[str], *, wait: float = DEFAULT_WAIT
    ) -> list[str]:
        """User ids and user-group ids → user ids, de-duplicated, in first-seen order. The groups not
        known yet are asked for all at once, with one ``wait`` for them all (never ``wait`` per
        group); one Slack does not answer for by then is left out (logged) and its fetch goes on in
        the background. Stale groups are used at once and refreshed meanwhile."""
        groups = [i for i in dict.fromkeys(ids) if is_usergroup_id(i)]
        self.refresh(client, [g for g in groups if g in self._entries])
        missing = [g for g in groups if g not in self._entries]
        if missing:
            fetches = [self._fetch(client, g) for g in missing]
            _done, pending = await asyncio.wait(fetches, timeout=wait)
            if pending:
                late = sorted(g for g, task in zip(missing, fetches, strict=True) if task in pending)
                log.warning("user groups %s: no answer within %.1fs; left out", ", ".join(late), wait)
        return list(self.expand_known(ids).users)

    async def managers(self, client: AsyncWebClient) -> list[str]:
        return await self.expand(client, self._settings.roles.managers)

    async def is_manager(self, client: AsyncWebClient, user_id: str) -> bool:
        if user_id in self._settings.roles.managers or self._settings.is_admin(user_id):
            return True
        groups = [g for g in self._settings.roles.managers if is_usergroup_id(g)]
        for group in groups:
            if user_id in await self.members(client, group):
                return True
        return False

    async def is_manager_within(self, client: AsyncWebClient, user_id: str, *, wait: float) -> bool | None:
        """:meth:`is_manager_known`, after asking Slack (up to ``wait`` s) for the manager groups not
        known yet; ``None`` when the answer still depends on one of them. Stale groups are refreshed
        in the background."""
        groups = [g for g in self._settings.roles.managers if is_usergroup_id(g)]
        self.refresh(client, [g for g in groups if g in self._entries])
        missing = [g for g in groups if g not in self._entries]
        if missing and self.is_manager_known(user_id) is None:
            async with asyncio.TaskGroup() as tasks:
                for group in missing:
                    tasks.create_task(self.resolve(client, group, wait=wait))
        return self.is_manager_known(user_id)

    async def aclose(self) -> None:
        """Cancel fetches still running (shutdown)."""
        tasks = list(self._fetching.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- fetching ---------------------------------------------------------------------------

    def _fetch(self, client: AsyncWebClient, group_id: str) -> asyncio.Task[frozenset[str] | None]:
        """The running fetch of ``group_id``, or a new one (one at a time per group)."""
        running = self._fetching.get(group_id)
        if running is not None and not running.done():
            return running
        task = asyncio.create_task(self._ask(client, group_id), name=f"usergroup-{group_id}")
        self._fetching[group_id] = task
        task.add_done_callback(lambda done: self._forget(group_id, done))
        return task

    def _forget(self, group_id: str, task: asyncio.Task[frozenset[str] | None]) -> None:
        if self._fetching.get(group_id) is task:
            del self._fetching[group_id]

    async def _ask(self, client: AsyncWebClient, group_id: str) -> frozenset[str] | None:
        try:
            response = await client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as exc:
            log.warning("usergroups.users.list %s failed: %s", group_id, exc.response.get("error"))
            return None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("usergroups.users.list %s failed: %s", group_id, type(exc).__name__)
            return None
        users = frozenset(u for u in response.get("users") or [] if isinstance(u, str))
        self._entries[group_id] = _Entry(users, self._clock.now())
        return users
