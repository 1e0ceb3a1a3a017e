"""Identifiers of the digest feature: shortcut, modal, block and action ids, job ids, metadata codecs (pure)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from bot.manifest import WIN_SHORTCUT_CALLBACK_ID

#: ``event_type`` of the message metadata every digest post carries (recovery searches for it).
DIGEST_EVENT_TYPE = "sns_digest"


class CallbackId(StrEnum):
    SHARE_WIN = WIN_SHORTCUT_CALLBACK_ID
    WIN_MODAL = "digest.win_modal"


class BlockId(StrEnum):
    WIN_WHAT = "digest.win_what"
    WIN_KPI = "digest.win_kpi"


class ActionId(StrEnum):
    WIN_WHAT = "digest.win_what_input"
    WIN_KPI = "digest.win_kpi_select"


class JobId(StrEnum):
    WEEKLY = "digest.weekly"
    MONTHLY = "digest.monthly"


@dataclass(frozen=True, slots=True)
class WinTarget:
    """The message a win is about, carried through the modal's ``private_metadata``."""

    channel_id: str
    message_ts: str
    author: str | None = None

    def encode(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str) -> WinTarget:
        data = json.loads(raw)
        return cls(
            channel_id=str(data["channel_id"]), message_ts=str(data["message_ts"]), author=data.get("author")
        )


def digest_metadata(*, kind: str, period: str, channel: str) -> dict[str, Any]:
    """Slack message metadata that identifies one digest post (kind, period, channel)."""
    return {
        "event_type": DIGEST_EVENT_TYPE,
        "event_payload": {"kind": kind, "period": period, "channel": channel},
    }


def is_digest_message(message: dict[str, Any], *, kind: str, period: str, channel: str) -> bool:
    """Whether a message from ``conversations.history`` is the digest post for (kind, period, channel)."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != DIGEST_EVENT_TYPE:
        return False
    payload = metadata.get("event_payload") or {}
    return (
        payload.get("kind") == kind and payload.get("period") == period and payload.get("channel") == channel
    )
