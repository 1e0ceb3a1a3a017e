"""A collector run's errors as the store keeps them (catalog keys and parameters, not text in one
language) and as each reader reads them, in their own language (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.errors import BotError
from bot.i18n import Translator
from bot.runtime.platforms import PlatformError, PlatformErrorKind


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | str) else str(value)


def encode(errors: Sequence[BotError]) -> str | None:
    """``errors`` for ``collector_run.error``: a JSON list of ``{"key", "params"}`` (``None``: none)."""
    if not errors:
        return None
    return json.dumps([_item(e) for e in errors], ensure_ascii=False)


def _item(error: BotError) -> dict[str, Any]:
    item: dict[str, Any] = {"key": error.key, "params": {k: _plain(v) for k, v in error.params.items()}}
    if isinstance(error, PlatformError):  # it renders the platform's name and when to retry itself
        item["platform_error"] = {
            "kind": error.kind.value,
            "platform": error.platform,
            "detail": error.detail,
            "retry_after": error.retry_after,
        }
    return item


def _error(item: dict[str, Any]) -> BotError:
    platform = item.get("platform_error")
    if isinstance(platform, dict):
        return PlatformError(
            PlatformErrorKind(platform["kind"]),
            platform=str(platform["platform"]),
            detail=str(platform.get("detail") or ""),
            retry_after=platform.get("retry_after"),
        )
    return BotError(item["key"], **(item.get("params") or {}))


def render(stored: str, t: Translator) -> str:
    """What :func:`encode` stored, one line per error in ``t``'s language. Text stored before keys
    were (or anything that is not such a list) is shown as it is."""
    try:
        items = json.loads(stored)
    except ValueError:
        return stored
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("key"), str) and isinstance(i.get("params", {}), dict)
        for i in items
    ):
        return stored
    lines = []
    for item in items:
        key = item["key"]
        try:
            lines.append(_error(item).render(t) if t.has(key) else key)
        except (KeyError, IndexError, TypeError, ValueError):  # the catalog or the kinds changed since
            lines.append(key)
    return "\n".join(lines)
