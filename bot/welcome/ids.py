"""Identifiers of the manager introduction: the App Home's "show my introduction" button, its modal,
the outbox kind of the welcome DM, and what introduced a manager (pure)."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    #: The App Home's button that opens the introduction again.
    REOPEN = "welcome.reopen"


class CallbackId(StrEnum):
    MODAL = "welcome.modal"


class DeliveryKind(StrEnum):
    DM = "welcome.dm"


class Via(StrEnum):
    """What introduced a manager to the bot (``manager_welcome.via``)."""

    HOME = "home"
    REVIEW = "review"


def welcome_key(user_id: str) -> str:
    """The outbox key of a manager's welcome DM: one per manager, ever."""
    return f"{DeliveryKind.DM.value}:{user_id}"
