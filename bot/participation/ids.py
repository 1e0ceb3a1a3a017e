"""The participation slice's Slack ids and closed sets (pure)."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    #: The nudge DM's "Remind me next week".
    SNOOZE = "participation.snooze"
    #: The App Home's nudge switch (one button that turns nudges off or back on).
    NUDGES_OFF = "participation.nudges_off"
    NUDGES_ON = "participation.nudges_on"
    #: The nudge DM's button to the wins (a link button: Slack still sends an action, which is acked).
    OPEN_WINS = "participation.open_wins"


#: Events whose listeners claim the ``event_id`` themselves after the ack, only for the deliveries that
#: are participation (every message of a channel the bot is in arrives as a ``message`` event).
EVENTS = ("reaction_added", "reaction_removed", "message")


class DeliveryKind(StrEnum):
    """Outbox kinds: Slack work owed for a claimed nudge."""

    NUDGE = "participation.nudge"


def nudge_key(user_id: str, slot: str) -> str:
    """The outbox key (and post key) of one nudge: one per manager and slot."""
    return f"nudge:{user_id}:{slot}"


class MarkKind(StrEnum):
    """What a person did on one of the bot's posts (``participation_mark.kind``)."""

    REACTION = "reaction"
    REPLY = "reply"


class NudgeStatus(StrEnum):
    """``participation_nudge.status``: claimed (its DM owed in the outbox in the same transaction),
    then sent."""

    CLAIMED = "claimed"
    SENT = "sent"


class SectionMode(StrEnum):
    """``[digest.monthly] participation``."""

    NAMED = "named"
    COUNTS = "counts"
    OFF = "off"
