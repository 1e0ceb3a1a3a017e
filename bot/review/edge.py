"""What every review listener shares: who acted, one store transaction per unit of work, and how a
refused modal submission is answered (Slack I/O).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from slack_bolt.async_app import AsyncAck
from sqlalchemy.ext.asyncio import AsyncSession

from bot import db
from bot.config import Settings
from bot.errors import BotError, Unavailable
from bot.review.delivery import ReviewDelivery
from bot.review.modals import build_refusal_view
from bot.slack.gate import BEFORE_ACK_WAIT

if TYPE_CHECKING:
    from bot.runtime.deps import Deps

log = logging.getLogger(__name__)

T = TypeVar("T")


def user_of(body: dict[str, Any]) -> str:
    """Who clicked or submitted (a slash command names them as ``user_id``)."""
    user = body.get("user") or {}
    return str(user.get("id") or body.get("user_id") or "")


class ReviewEdge:
    """The plumbing of the review listeners (:mod:`bot.review.listeners`, :mod:`bot.review.followups`)."""

    def __init__(self, deps: Deps, delivery: ReviewDelivery) -> None:
        self._deps = deps
        self._delivery = delivery

    @property
    def _settings(self) -> Settings:
        return self._deps.settings

    async def _in_store(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, write: bool = False, before_ack: bool = False
    ) -> T:
        """One transaction, retried when SQLite is locked; a database outage is ``Unavailable``.
        ``write``: the unit writes (see :func:`bot.db.unit_of_work`); ``before_ack``: it runs
        before the ack, so it gives up with ``Busy`` rather than wait long to start."""
        start_within = BEFORE_ACK_WAIT if before_ack else None

        async def unit() -> T:
            async with db.unit_of_work(
                self._deps.sessions, write=write, start_within=start_within
            ) as session:
                return await work(session)

        return await db.with_retry(unit)

    async def _refuse_submission(
        self, ack: AsyncAck, error: BotError, *, block_id: str, user_id: str
    ) -> None:
        """Answer a refused modal submission: inline on ``block_id`` when retrying can help (the
        database was down; the text stays), otherwise the modal turns into the explanation; in the
        language of ``user_id`` as far as known before the ack."""
        t = self._deps.locales.known(user_id)
        text = error.render(t)
        log.info("review submission refused: %s", error.key)
        if isinstance(error, Unavailable) or error.block_id:
            await ack(response_action="errors", errors={error.block_id or block_id: text})
            return
        await ack(response_action="update", view=build_refusal_view(text, t=t).to_dict())
