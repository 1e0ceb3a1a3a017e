"""Reading reviews on SQLite and PostgreSQL: the requester's and the reviewer's lists, an unknown request."""

from __future__ import annotations

from typing import Any

import pytest

from bot.review import queries
from bot.review.ids import Decision, RequestRef
from bot.review.policy import ResolvedStep
from bot.review.records import Feedback
from bot.review.refusals import ReviewNotFound
from tests.conftest import MANAGER, MANAGER2, OPERATOR
from tests.review.store_support import create, decide


async def test_lists_for_the_requester_and_the_reviewers(run: Any) -> None:
    waiting = await create(run, text="待ち")
    step_two = await create(
        run, text="二段目", chain=(ResolvedStep((MANAGER,), "any"), ResolvedStep((MANAGER2,), "any"))
    )
    done = await create(run, text="却下済み")
    await decide(run, done, MANAGER, Decision.REJECT, feedback=Feedback(reasons=("tone",)))
    mine = await run(lambda s: queries.open_requests_for(s, user_id=OPERATOR))
    assert [r.text for r in mine] == ["二段目", "待ち"]
    assert [r.text for r in await run(lambda s: queries.waiting_on(s, user_id=MANAGER2))] == ["待ち"]
    assert [r.text for r in await run(lambda s: queries.waiting_on(s, user_id=MANAGER))] == ["待ち", "二段目"]
    await decide(run, step_two, MANAGER, Decision.APPROVE)
    assert [r.text for r in await run(lambda s: queries.waiting_on(s, user_id=MANAGER2))] == [
        "待ち",
        "二段目",
    ]
    assert [r.text for r in await run(lambda s: queries.waiting_on(s, user_id=MANAGER))] == ["待ち"]
    assert waiting.id != step_two.id


async def test_unknown_request_is_not_found(run: Any) -> None:
    with pytest.raises(ReviewNotFound):
        await decide(run, await create(run), MANAGER, Decision.APPROVE, ref=RequestRef(999, 1, 1))
