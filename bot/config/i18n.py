"""The ``[i18n]`` section (pure): whether each person reads their own language, and how long the bot
trusts a Slack locale it looked up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.config.reader import Reader


@dataclass(frozen=True, slots=True)
class I18nSettings:
    #: DMs, ephemeral answers, modals and the App Home follow each reader's language (their choice on
    #: the App Home, else their Slack locale); ``False``: everything in the top-level ``locale``.
    per_user: bool = True
    #: How long a Slack locale looked up with ``users.info`` is used before asking again.
    cache_ttl_minutes: float = 60.0


def read_i18n(r: Reader, raw: Mapping[str, Any]) -> I18nSettings:
    """``[i18n] per_user``, ``cache_ttl_minutes``."""
    table = r.table(raw, "i18n", "")
    r.known(table, "i18n", ("per_user", "cache_ttl_minutes"))
    return I18nSettings(
        per_user=r.get(table, "per_user", "i18n", bool, True),
        cache_ttl_minutes=r.positive(table, "cache_ttl_minutes", "i18n", 60.0),
    )
