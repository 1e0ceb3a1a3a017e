"""``[[accounts]]`` (pure): the SNS accounts the team runs, their draft length limits and approval
chains."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.config.reader import Reader, Types
from bot.config.values import KEY_RE, is_user_or_group

PLATFORMS = ("x", "instagram", "threads", "youtube", "tiktok", "linkedin", "facebook", "note", "other")

#: Draft length limits per platform (characters; X counts with its weighted rule).
DEFAULT_MAX_LENGTH: Mapping[str, int | None] = {
    "x": 280,
    "instagram": 2200,
    "threads": 500,
    "linkedin": 3000,
    "youtube": 5000,
    "tiktok": 2200,
    "facebook": None,
    "note": None,
    "other": None,
}

_ACCOUNT_KEYS = ("key", "platform", "handle", "name", "max_length", "approval", "platform_id")


@dataclass(frozen=True, slots=True)
class ApprovalStep:
    """One step of an approval chain: users (``U…``) and user groups (``S…``), any or all of them."""

    approvers: tuple[str, ...]
    mode: Literal["any", "all"] = "any"


@dataclass(frozen=True, slots=True)
class AccountSettings:
    key: str
    platform: str
    handle: str
    name: str
    #: ``None`` means no limit; X counts with its weighted rule.
    max_length: int | None
    #: Empty means the default chain: one step, any manager.
    approval: tuple[ApprovalStep, ...]
    #: The platform's own id of the account (X user id, Instagram user id, YouTube channel id),
    #: needed by collectors for follower counts.
    platform_id: str | None = None


def read_accounts(r: Reader, raw: Mapping[str, Any]) -> tuple[AccountSettings, ...]:
    """``[[accounts]]``: at least one, each key unique."""
    items = raw.get("accounts", [])
    if not isinstance(items, list):
        r.add("accounts", "wrong_type", expected=Types(("tables",)))
        accounts: tuple[AccountSettings, ...] = ()
    else:
        accounts = _accounts(r, items)
    if not accounts:
        r.add("accounts", "missing")
    return accounts


def _accounts(r: Reader, items: list[Any]) -> tuple[AccountSettings, ...]:
    out: list[AccountSettings] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"accounts[{i}]"
        if not isinstance(item, Mapping):
            r.add(path, "not_table")
            continue
        out.append(_account(r, item, path, seen))
    return tuple(out)


def _account(r: Reader, item: Mapping[str, Any], path: str, seen: set[str]) -> AccountSettings:
    """One ``[[accounts]]`` entry; ``seen`` holds the keys of the entries before it (and gets its key)."""
    r.known(item, path, _ACCOUNT_KEYS)
    key = r.get(item, "key", path, str, "", required=True)
    if key and not KEY_RE.match(key):
        r.add(f"{path}.key", "bad_key", value=key)
    if key in seen:
        r.add(f"{path}.key", "duplicate", value=key)
    seen.add(key)
    platform = r.choice(item, "platform", path, PLATFORMS, "other")
    if "platform" not in item:
        r.add(f"{path}.platform", "missing")
    handle = r.get(item, "handle", path, str, "")
    name = r.get(item, "name", path, str, handle or key)
    max_length: int | None = DEFAULT_MAX_LENGTH.get(platform)
    if "max_length" in item:
        value = r.get(item, "max_length", path, int, max_length)
        # 0 switches the limit off for a platform that has one.
        max_length = None if value == 0 else value
        if value is not None and value < 0:
            r.add(f"{path}.max_length", "not_positive")
    steps = _approval(r, item, path)
    platform_id = r.get(item, "platform_id", path, str, None)
    return AccountSettings(key, platform, handle, name, max_length, steps, platform_id)


def _approval(r: Reader, item: Mapping[str, Any], path: str) -> tuple[ApprovalStep, ...]:
    """An account's approval chain (empty: the default, one step, any manager)."""
    steps: list[ApprovalStep] = []
    for j, step in enumerate(r.get(item, "approval", path, list, [])):
        spath = f"{path}.approval[{j}]"
        if not isinstance(step, Mapping):
            r.add(spath, "not_table")
            continue
        r.known(step, spath, ("approvers", "mode"))
        approvers = r.ids(step, "approvers", spath, is_user_or_group, "user or user group")
        if not approvers:
            r.add(f"{spath}.approvers", "missing")
        mode = r.choice(step, "mode", spath, ("any", "all"), "any")
        steps.append(ApprovalStep(approvers=approvers, mode=mode))
    return tuple(steps)
