"""How review surfaces name things: people (mentions), times, accounts, reasons, draft lengths and who
is away (pure text, shared by the modals, messages and refusals).

Every piece of user text goes through ``escape`` here or in the builders, so ``<!channel>`` or
``<@U…>`` typed by someone shows literally and pings nobody.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.config import AccountSettings, Settings, is_usergroup_id
from bot.i18n import Translator
from bot.review.text import check_length
from bot.slack.blocks import escape, slack_date

_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")


def who(user_id: str | None) -> str:
    """A mention for a Slack user id (or a user group standing in for its members as an approver,
    see :mod:`bot.review.approvers`); anything else is shown escaped (never a ping)."""
    if user_id and _ID_RE.match(user_id):
        return f"<@{user_id}>"
    if user_id and is_usergroup_id(user_id):
        return f"<!subteam^{user_id}>"
    return escape(user_id or "?")


def who_list(user_ids: Sequence[str], t: Translator) -> str:
    return t.join(who(u) for u in user_ids) if user_ids else t("common.words.none")


def local_time(moment: datetime, *, tz: ZoneInfo, t: Translator) -> str:
    """``moment`` as local text in the catalog's format (plain text: modals and fallbacks)."""
    local = moment.astimezone(tz)
    weekdays = t("review.format.weekdays").split(",")
    return t(
        "review.format.datetime",
        year=local.year,
        month=local.month,
        day=local.day,
        weekday=weekdays[local.weekday()],
        hh=f"{local.hour:02d}",
        mm=f"{local.minute:02d}",
    )


def when(moment: datetime | None, *, tz: ZoneInfo, t: Translator) -> str:
    """A ``<!date>`` token (each reader sees their own zone) with a local fallback."""
    if moment is None:
        return t("review.message.not_set")
    return slack_date(moment, local_time(moment, tz=tz, t=t))


def permalink(channel_id: str | None, ts: str | None) -> str | None:
    """A link to a message without an API call (Slack redirects it into the workspace)."""
    if not channel_id or not ts:
        return None
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def account_label(account: AccountSettings | None, key: str) -> str:
    if account is None:
        return key
    return f"{account.name} ({account.handle})" if account.handle else account.name


def reason_label(key: str, *, settings: Settings, t: Translator) -> str:
    custom = settings.review.custom_reasons.get(key)
    if custom is not None:
        return custom.get(t.locale)
    if t.has(f"review.reasons.{key}"):
        return t(f"review.reasons.{key}")
    return key


def length_text(text: str, account: AccountSettings | None, t: Translator) -> str:
    """ "123 / 280 (X weighted count)" or "123 characters (no limit)"."""
    platform = account.platform if account else "other"
    limit = account.max_length if account else None
    check = check_length(text, platform=platform, limit=limit)
    if check.limit is None:
        return t("review.length.no_limit", length=f"{check.length:,}")
    key = "review.length.weighted" if check.weighted else "review.length.plain"
    line = t(key, length=f"{check.length:,}", limit=f"{check.limit:,}")
    return t("review.length.over", text=line) if check.over else line


def away_line(away: Mapping[str, date], t: Translator, *, delegates: Mapping[str, str] | None = None) -> str:
    """The "away until …" line for approvers who are away (App Home), each with their delegate if named."""

    def entry(user: str, until: date) -> str:
        delegate = (delegates or {}).get(user)
        day = f"{until.month}/{until.day}"
        if delegate:
            return t("review.reminder.away_user_delegate", user=who(user), until=day, delegate=who(delegate))
        return t("review.reminder.away_user", user=who(user), until=day)

    return t("review.reminder.away", users=t.join(entry(user, until) for user, until in away.items()))
