"""``[roles]`` (pure): who manages (users or user groups) and who administers the bot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.config.reader import Reader
from bot.config.values import is_user_id, is_user_or_group


@dataclass(frozen=True, slots=True)
class RoleSettings:
    managers: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()


def read_roles(r: Reader, raw: Mapping[str, Any]) -> RoleSettings:
    """``[roles]``: both lists are required and hold Slack IDs."""
    ro = r.table(raw, "roles", "")
    r.known(ro, "roles", ("managers", "admins"))
    roles = RoleSettings(
        managers=r.ids(ro, "managers", "roles", is_user_or_group, "user or user group"),
        admins=r.ids(ro, "admins", "roles", is_user_id, "user"),
    )
    if not roles.managers:
        r.add("roles.managers", "missing")
    if not roles.admins:
        r.add("roles.admins", "missing")
    return roles
