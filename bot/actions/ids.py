"""Identifiers of the monthly review's action items: action, callback and block ids, the item status,
outbox kinds, and the codecs of button values and modal metadata (pure)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from enum import StrEnum

from bot.errors import BotError
from bot.periods import Period, PeriodKind, parse_period

_CHANNEL_RE = re.compile(r"[CGD][A-Z0-9]{2,39}")
_TS_RE = re.compile(r"[0-9]{1,20}\.[0-9]{1,19}")
_ITEM_RE = re.compile(r"[0-9]{1,12}")


class ActionId(StrEnum):
    #: "Add an action item" on a monthly digest; value: the digest's period (``2026-11``).
    ADD = "actions.add"
    #: "Mark as done" on the item's message and the owner's App Home; value: the item id.
    DONE = "actions.done"
    # Inputs of the modal (their values arrive with the submission).
    WHAT = "actions.input.what"
    OWNER = "actions.input.owner"
    DUE = "actions.input.due"


class CallbackId(StrEnum):
    ADD = "actions.add_modal"


class BlockId(StrEnum):
    WHAT = "actions_what"
    OWNER = "actions_owner"
    DUE = "actions_due"


class Status(StrEnum):
    OPEN = "open"
    DONE = "done"


class DeliveryKind(StrEnum):
    """Outbox kinds: the item's message in the digest thread, and its update once done."""

    ADDED = "actions.added"
    DONE = "actions.done"


@dataclass(frozen=True, slots=True)
class AddTarget:
    """The digest an item is added on, carried through the modal's ``private_metadata``."""

    period: str
    channel_id: str
    thread_ts: str

    def encode(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def of(cls, period: object, channel: object, ts: object) -> AddTarget:
        """A valid target, or ``actions.errors.bad_target``: nothing odd reaches the store."""
        if not (
            isinstance(period, str)
            and isinstance(channel, str)
            and _CHANNEL_RE.fullmatch(channel)
            and isinstance(ts, str)
            and _TS_RE.fullmatch(ts)
        ):
            raise BotError("actions.errors.bad_target")
        try:
            month = parse_period(PeriodKind.MONTHLY, period)
        except BotError:
            raise BotError("actions.errors.bad_target") from None
        return cls(month.label, channel, ts)

    @classmethod
    def decode(cls, raw: object) -> AddTarget:
        try:
            data = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise BotError("actions.errors.bad_target")
        return cls.of(data.get("period"), data.get("channel_id"), data.get("thread_ts"))

    @property
    def month(self) -> Period:
        return parse_period(PeriodKind.MONTHLY, self.period)


def parse_item_id(raw: object) -> int:
    """A "Mark as done" button's value as an item id, or ``actions.errors.unknown_item``."""
    if not isinstance(raw, str) or not _ITEM_RE.fullmatch(raw):
        raise BotError("actions.errors.unknown_item")
    return int(raw)


def claim_add_key(view_id: object, view_hash: object) -> str:
    """Exactly-once key of one submission of the "add an action item" modal (one modal, one item)."""
    return f"actions:view:{view_id}:{view_hash}"
