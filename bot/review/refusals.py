"""Why a review action was refused, rendered in the reader's language with mentions and status words (pure).

Services raise these with raw user ids and status values; ``render`` turns them into text when
the one error handler (or a listener) shows them, so the store modules never format messages.
"""

from __future__ import annotations

from typing import Any

from bot.errors import BotError, Conflict, NotAllowed, NotFound
from bot.i18n import Translator
from bot.review.labels import who, who_list


class _Rendered(BotError):
    def render(self, t: Translator) -> str:
        params: dict[str, Any] = dict(self.params)
        if "status" in params:
            params["status"] = t(f"review.status_word.{params['status']}")
        if "who" in params:
            params["who"] = who(params["who"])
        if "users" in params:
            params["users"] = who_list(params["users"], t)
        return t(self.key, **params)


class ReviewNotAllowed(_Rendered, NotAllowed):
    """The person may not do this to this request (not an approver, own request, not the requester)."""


class ReviewConflict(_Rendered, Conflict):
    """The request moved on (decided, resubmitted, already approved by this person)."""


class ReviewNotFound(_Rendered, NotFound):
    """No such request."""
