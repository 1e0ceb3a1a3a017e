"""Domain errors that carry a catalog key, so the one error handler can tell the user what went wrong."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from bot.i18n import Locale, Translator


@runtime_checkable
class LocalizedText(Protocol):
    """Text in every catalog language (``bot.config.values.LocalizedText``, e.g. a KPI's name)."""

    ja: str
    en: str

    def get(self, locale: Locale, /) -> str: ...


class BotError(Exception):
    """An expected failure a person should read about, in their language.

    Args:
        key: catalog key of the message (e.g. ``"kpi.errors.unknown_key"``).
        block_id: for modal submissions, the input block the message belongs to.
        params: placeholders of the message. Values echoed from user input must already be
            escaped for mrkdwn when the message is rendered as mrkdwn. A :class:`LocalizedText`
            (a KPI's name) is read in the reader's language when the message is rendered.
    """

    def __init__(self, key: str, /, *, block_id: str | None = None, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.block_id = block_id
        self.params = params

    def render(self, t: Translator) -> str:
        params = {k: v.get(t.locale) if isinstance(v, LocalizedText) else v for k, v in self.params.items()}
        return t(self.key, **params)

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
