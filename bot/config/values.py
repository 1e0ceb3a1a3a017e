"""Value types and checks every config section shares (pure): localized text, Slack IDs, keys, crontabs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.i18n import Locale

USER_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
USERGROUP_RE = re.compile(r"^S[A-Z0-9]{2,}$")
CHANNEL_RE = re.compile(r"^[CGD][A-Z0-9]{2,}$")
#: Keys of accounts, KPIs and custom reasons.
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
COMMAND_RE = re.compile(r"^/[a-z0-9_-]{1,31}$")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class LocalizedText:
    ja: str
    en: str

    def get(self, locale: Locale) -> str:
        return self.ja if locale == "ja" else self.en


def is_user_id(value: str) -> bool:
    return bool(USER_RE.match(value))


def is_usergroup_id(value: str) -> bool:
    return bool(USERGROUP_RE.match(value))


def is_channel_id(value: str) -> bool:
    return bool(CHANNEL_RE.match(value))


def is_user_or_group(value: str) -> bool:
    return is_user_id(value) or is_usergroup_id(value)


def check_cron(expr: str) -> str | None:
    """``None`` when ``expr`` is a valid 5-field crontab, else the reason."""
    from apscheduler.triggers.cron import CronTrigger

    if len(expr.split()) != 5:
        return "5 fields"
    try:
        CronTrigger.from_crontab(expr, timezone="UTC")
    except ValueError as exc:
        return str(exc)
    return None
