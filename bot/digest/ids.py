"""Identifiers of the digest feature: shortcut, modal, block and action ids (the App Home's digest
buttons included), job ids, and the codecs of win targets, message links and post metadata (pure)."""

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


# The App Home shows the digest's "Share a win" and "Send me a digest preview" buttons, and "Share a
# win" starts with a modal asking for the message link; this feature handles all of them. Their
# values date from when the Home handled them and are kept: Homes and modals already open in Slack
# carry them.


class CallbackId(StrEnum):
    SHARE_WIN = WIN_SHORTCUT_CALLBACK_ID
    WIN_MODAL = "digest.win_modal"
    #: Step one of sharing a win from the Home: the message link.
    WIN_LINK_MODAL = "home.share_win_modal"


class BlockId(StrEnum):
    WIN_WHAT = "digest.win_what"
    WIN_KPI = "digest.win_kpi"
    WIN_LINK = "home_win_link"


class ActionId(StrEnum):
    WIN_WHAT = "digest.win_what_input"
    WIN_KPI = "digest.win_kpi_select"
    WIN_LINK = "home.input.win_link"
    #: Home buttons.
    HOME_SHARE_WIN = "home.share_win"
    HOME_PREVIEW = "home.digest_preview"
    #: On the admin's preview DM: edit a posted digest in place (value: ``kind:period``).
    UPDATE_POSTED = "digest.update_posted"


class JobId(StrEnum):
    WEEKLY = "digest.weekly"
    MONTHLY = "digest.monthly"
    QUARTERLY = "digest.quarterly"
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


#: ``https://<workspace>.slack.com/archives/C0123/p1767225601000200`` (a "Copy link" of a message);
#: the ``p`` number is the message ts without its dot (10 digits, then 6).
_PERMALINK_RE = re.compile(
    r"^https://[A-Za-z0-9.-]*slack\.com/archives/([CGD][A-Z0-9]{2,})/p(\d{10})(\d{6})(?:[?#].*)?$"
)


def parse_message_link(text: str) -> WinTarget | None:
    """The message a "Copy link" URL points at (its thread ``ts`` is ignored), or ``None``."""
    match = _PERMALINK_RE.match(text.strip())
    if match is None:
        return None
    return WinTarget(channel_id=match.group(1), message_ts=f"{match.group(2)}.{match.group(3)}")


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
