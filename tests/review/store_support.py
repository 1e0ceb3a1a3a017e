"""Helpers of the review store tests: a request made and decided the way listeners do it (the ``run`` and
``sessions`` fixtures are in this folder's conftest)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.review import commands
from bot.review.ids import Decision, RequestRef
from bot.review.models import ReviewEvent
from bot.review.policy import ResolvedStep
from bot.review.records import Decider, Feedback, RequestSnapshot
from tests.conftest import MANAGER, MANAGER2, NOW, OPERATOR, make_settings

OTHER = "U0BOB0001"
STEP2 = "U0STEP2001"  # an approver of a later step who is not a manager
SETTINGS = make_settings()
NO_FEEDBACK = Feedback()


async def create(
    run: Any,
    *,
    chain: tuple[ResolvedStep, ...] = (ResolvedStep((MANAGER, MANAGER2), "any"),),
    text: str = "冬の新商品です",
    requester: str = OPERATOR,
) -> RequestSnapshot:
    return await run(
        lambda s: commands.create_request(
            s,
            requester_id=requester,
            account_key="x_corp",
            text=text,
            planned_at=NOW + timedelta(days=2),
            link_url=None,
            feedback_wanted="トーン",
            chain=chain,
            now=NOW,
        )
    )


def decide(
    run: Any,
    request: RequestSnapshot,
    actor: str,
    decision: Decision,
    *,
    feedback: Feedback = NO_FEEDBACK,
    is_admin: bool = False,
    minutes: int = 30,
    ref: RequestRef | None = None,
    seen_step: int | None = -1,
    delegators: frozenset[str] = frozenset(),
) -> Awaitable[Any]:
    """``actor`` decides on ``request`` as its modal showed it (the step it was at, unless
    ``seen_step`` says otherwise); managers and admins as configured in :data:`SETTINGS`."""
    decider = Decider(
        user_id=actor,
        is_admin=is_admin or SETTINGS.is_admin(actor),
        is_manager=SETTINGS.is_manager(actor) or SETTINGS.is_admin(actor) or is_admin,
        delegators=delegators,
    )
    return run(
        lambda s: commands.decide(
            s,
            ref=ref or request.ref,
            decider=decider,
            decision=decision,
            feedback=feedback,
            now=NOW + timedelta(minutes=minutes),
            seen_step=request.current_step if seen_step == -1 else seen_step,
        )
    )


async def events(run: Any, request_id: int) -> list[tuple[str, str | None, int, int | None]]:
    rows = await run(
        lambda s: s.execute(
            select(ReviewEvent.kind, ReviewEvent.actor_id, ReviewEvent.revision, ReviewEvent.step)
            .where(ReviewEvent.request_id == request_id)
            .order_by(ReviewEvent.id)
        )
    )
    return [tuple(r) for r in rows]
