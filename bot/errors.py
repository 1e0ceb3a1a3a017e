"""Domain errors that carry a catalog key, so the one error handler can tell the user what went wrong."""

from __future__ import annotations

from typing import Any

from bot.i18n import Translator


class BotError(Exception):
    """An expected failure a person should read about, in their language.

    Args:
        key: catalog key of the message (e.g. ``"kpi.errors.unknown_key"``).
        block_id: for modal submissions, the input block the message belongs to.
        params: placeholders of the message. Values echoed from user input must already be
            escaped for mrkdwn when the message is rendered as mrkdwn.
    """

    def __init__(self, key: str, /, *, block_id: str | None = None, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.block_id = block_id
        self.params = params

    def render(self, t: Translator) -> str:
        return t(self.key, **self.params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"


class NotAllowed(BotError):
    """The user may not do this (authorization)."""


class NotFound(BotError):
    """The thing referred to does not exist (or no longer does)."""


class Conflict(BotError):
    """The action lost a race or the object is no longer in a state that allows it."""


class Unavailable(BotError):
    """A dependency (the database, Slack) is temporarily unavailable; nothing was changed."""


class Busy(Unavailable):
    """Too much work is queued to start this in time (e.g. before Slack's 3 s for an ack); nothing
    was changed and the person may simply try again."""
