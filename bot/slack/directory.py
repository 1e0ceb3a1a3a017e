"""Who is who: user groups (``S…``) resolved to members through ``usergroups.users.list``, cached
for a few minutes, and the manager/admin checks that depend on them (Slack I/O)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.config import Settings, is_usergroup_id

log = logging.getLogger(__name__)


class Directory:
    def __init__(self, *, settings: Settings, clock: Clock, ttl: timedelta = timedelta(minutes=5)) -> None:
        self._settings = settings
        self._clock = clock
        self._ttl = ttl
        self._groups: dict[str, tuple[datetime, frozenset[str]]] = {}

    async def members(self, client: AsyncWebClient, group_id: str) -> frozenset[str]:
        now = self._clock.now()
        cached = self._groups.get(group_id)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        try:
            response = await client.usergroups_users_list(usergroup=group_id)
            users = frozenset(u for u in response.get("users") or [] if isinstance(u, str))
        except SlackApiError as exc:
            log.warning("usergroups.users.list %s failed: %s", group_id, exc.response.get("error"))
            # A stale answer beats none: approvals keep working through a Slack hiccup.
            return cached[1] if cached else frozenset()
        self._groups[group_id] = (now, users)
        return users

    async def expand(self, client: AsyncWebClient, ids: Iterable[str]) -> list[str]:
        """User ids and user-group ids → user ids, de-duplicated, in first-seen order."""
        out: dict[str, None] = {}
        for item in ids:
            if is_usergroup_id(item):
                for member in sorted(await self.members(client, item)):
                    out.setdefault(member, None)
            else:
                out.setdefault(item, None)
        return list(out)

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
