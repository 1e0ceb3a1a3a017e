"""Events and settings for the participation scenarios: reactions and thread replies as Slack sends
them (§9.2, §9.3 of the Slack notes), and a config with the ``manager_participation`` KPI (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.config import Settings
from tests.conftest import make_settings
from tests.fakes import payloads

RATE_KPI = {
    "key": "manager_participation",
    "name": {"ja": "管理職の参加率", "en": "Manager participation"},
    "unit": "%",
    "aggregate": "derived",
    "derive": "manager_participation",
    "better": "higher",
    "target": 80,
    "why": {
        "ja": "管理職の関心がチームの習慣を支えます。",
        "en": "Managers' attention keeps the habit alive.",
    },
}


def participation_settings(
    db_url: str,
    api_url: str,
    *,
    mode: str = "named",
    working_hours: dict[str, Any] | None = None,
    **participation: Any,
) -> Settings:
    def change(raw: dict[str, Any]) -> None:
        raw["kpis"].append(dict(RATE_KPI))
        raw["digest"]["monthly"]["participation"] = mode
        if working_hours is not None:
            raw["review"]["working_hours"] = working_hours
        if participation:
            raw["participation"] = participation

    return make_settings(db_url=db_url, api_url=api_url, change=change)


def ts_of(moment: datetime, n: int = 100) -> str:
    return f"{int(moment.timestamp())}.{n:06d}"


def reaction(
    user: str,
    *,
    channel: str,
    ts: str,
    at: datetime,
    emoji: str = "tada",
    removed: bool = False,
    item_user: str = payloads.BOT_USER_ID,
) -> dict[str, Any]:
    return {
        "type": "reaction_removed" if removed else "reaction_added",
        "user": user,
        "reaction": emoji,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": ts_of(at, 400),
    }


def reply(
    user: str, *, channel: str, thread_ts: str, at: datetime, parent_user: str = payloads.BOT_USER_ID
) -> dict[str, Any]:
    ts = ts_of(at, 500)
    return {
        "type": "message",
        "user": user,
        "text": "いいですね、ありがとうございます",
        "ts": ts,
        "thread_ts": thread_ts,
        "parent_user_id": parent_user,
        "team": payloads.TEAM_ID,
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
    }


def envelope(inner: dict[str, Any], *, event_id: str, at: datetime) -> dict[str, Any]:
    return payloads.event(inner, event_id=event_id, event_time=int(at.timestamp()))
