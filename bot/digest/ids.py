"""Identifiers of the digest feature: shortcut, modal, block and action ids, job ids, metadata codecs (pure)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from bot.errors import BotError
from bot.manifest import WIN_SHORTCUT_CALLBACK_ID

_CHANNEL_RE = re.compile(r"[CGD][A-Z0-9]{2,39}")
_TS_RE = re.compile(r"[0-9]{1,20}\.[0-9]{1,19}")
_USER_RE = re.compile(r"[UWB][A-Z0-9]{2,39}")

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
    SWEEP = "digest.sweep"


@dataclass(frozen=True, slots=True)
class WinTarget:
    """The message a win is about, carried through the modal's ``private_metadata``."""

    channel_id: str
    message_ts: str
    author: str | None = None

    def encode(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def decode(cls, raw: object) -> WinTarget:
        """Parse ``private_metadata``; anything that is not a channel, a message ts and an optional
        user id is refused (``digest.errors.bad_target``), so nothing odd reaches the store."""
        try:
            data = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise BotError("digest.errors.bad_target")
        channel, ts, author = data.get("channel_id"), data.get("message_ts"), data.get("author")
        if not (
            isinstance(channel, str)
            and _CHANNEL_RE.fullmatch(channel)
            and isinstance(ts, str)
            and _TS_RE.fullmatch(ts)
            and (author is None or (isinstance(author, str) and _USER_RE.fullmatch(author)))
        ):
            raise BotError("digest.errors.bad_target")
        return cls(channel_id=channel, message_ts=ts, author=author)


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
