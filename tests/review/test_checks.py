"""Who may decide or comment on a request as it is now, on SQLite and PostgreSQL: never the requester,
the current step's approvers, their delegates, managers and admins, bound to the step the form showed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.i18n import translator
from bot.review import commands
from bot.review.ids import Decision, Status
from bot.review.models import ReviewEvent
from bot.review.policy import ResolvedStep
from bot.review.records import Feedback
from bot.review.refusals import ReviewConflict, ReviewNotAllowed
from tests.conftest import ADMIN, MANAGER, MANAGER2, NOW, OPERATOR
from tests.review.store_support import OTHER, STEP2, create, decide, events


async def test_nobody_decides_on_their_own_request_not_even_an_admin(run: Any) -> None:
    request = await create(run, requester=ADMIN)
    with pytest.raises(ReviewNotAllowed) as refused:
        await decide(run, request, ADMIN, Decision.APPROVE, is_admin=True)
    assert (
        refused.value.render(translator("en"))
        == "You cannot decide on your own request. Nothing was changed."
    )
    with pytest.raises(ReviewNotAllowed):
        await decide(run, request, ADMIN, Decision.COMMENT, feedback=Feedback(comment="x"), is_admin=True)
    assert await events(run, request.id) == [("requested", ADMIN, 1, None)]


async def test_only_current_step_approvers_managers_or_an_admin_decide(run: Any) -> None:
    request = await create(run, chain=(ResolvedStep((MANAGER,), "any"), ResolvedStep((STEP2,), "any")))
    with pytest.raises(ReviewNotAllowed) as refused:
        await decide(run, request, STEP2, Decision.APPROVE)  # a step-2 approver (not a manager) during step 1
    assert refused.value.render(translator("ja")) == (
        "この依頼を判断できるのは、現在のステップの承認者（<@U0MANAGER1>）、管理職、または管理者のみです。変更は行われていません。"
    )
    with pytest.raises(ReviewNotAllowed):
        await decide(run, request, OTHER, Decision.REJECT, feedback=Feedback(reasons=("tone",)))
    result = await decide(run, request, ADMIN, Decision.APPROVE, is_admin=True)
    assert (result.outcome, result.request.current_step, result.request.status) == (
        "advanced",
        1,
        Status.PENDING,
    )


async def test_a_decided_request_politely_refuses_a_late_decision_and_says_who(run: Any) -> None:
    request = await create(run)
    await decide(run, request, MANAGER, Decision.REJECT, feedback=Feedback(reasons=("legal_risk",)))
    with pytest.raises(ReviewConflict) as late:
        await decide(run, request, MANAGER2, Decision.APPROVE)  # the button still shows version 1
    assert late.value.render(translator("ja")) == (
        "この依頼はすでに判断済みです（<@U0MANAGER1> さんにより却下）。あなたの回答は記録されていません。"
    )
    assert late.value.render(translator("en")) == (
        "This request is no longer waiting for a decision: rejected by <@U0MANAGER1>. Your answer was not recorded."
    )
    assert [e[0] for e in await events(run, request.id)] == ["requested", "rejected"]


async def test_a_delegate_decides_in_the_away_approvers_name_then_as_the_manager_they_are(run: Any) -> None:
    """Issue 13 item 4: an "all" step of [MANAGER, STEP2]; MANAGER is away and named MANAGER2."""
    request = await create(run, chain=(ResolvedStep((MANAGER, STEP2), "all"),))
    away = frozenset({MANAGER})
    first = await decide(run, request, MANAGER2, Decision.APPROVE, delegators=away)
    assert (first.outcome, first.on_behalf_of) == ("step_approved", (MANAGER,))
    assert first.request.step is not None and first.request.step.waiting_on == (STEP2,)
    # Someone named as delegate who is not a manager speaks for nobody.
    with pytest.raises(ReviewNotAllowed):
        await decide(run, first.request, OTHER, Decision.APPROVE, delegators=away)
    # MANAGER's seat is filled; MANAGER2 is still a configured manager, whose approval satisfies the step.
    second = await decide(run, first.request, MANAGER2, Decision.APPROVE, delegators=away, minutes=31)
    assert (second.outcome, second.on_behalf_of, second.request.status) == ("approved", (), Status.APPROVED)
    rows = await run(lambda s: s.execute(select(ReviewEvent.kind, ReviewEvent.data).order_by(ReviewEvent.id)))
    assert [tuple(r) for r in rows][1:] == [
        ("step_approved", {"as": "delegate", "on_behalf_of": [MANAGER]}),
        ("approved", {"as": "override"}),
    ]


async def test_a_reviewer_the_requester_picked_may_comment_and_is_told_who_decides(run: Any) -> None:
    request = await run(
        lambda s: commands.create_request(
            s,
            requester_id=OPERATOR,
            account_key="x_corp",
            text="冬の新商品です",
            planned_at=NOW + timedelta(days=2),
            link_url=None,
            feedback_wanted="",
            chain=(ResolvedStep((MANAGER,), "any"),),
            invitees=(OTHER,),
            now=NOW,
        )
    )
    assert request.invitees == (OTHER,)
    with pytest.raises(ReviewNotAllowed) as refused:
        await decide(run, request, OTHER, Decision.APPROVE)
    assert refused.value.render(translator("en")) == (
        "You were asked for feedback on this request, so you can comment; the decision is made by the "
        f"approvers of the current step (<@{MANAGER}>) or a manager. Nothing was changed."
    )
    commented = await decide(
        run, request, OTHER, Decision.COMMENT, feedback=Feedback(comment="良いと思います")
    )
    assert commented.outcome == "commented"


async def test_a_decision_is_bound_to_the_step_its_form_showed(run: Any) -> None:
    """Issue 13 item 3: on main the same admin submission approved step 1 and then step 2."""
    request = await create(run, chain=(ResolvedStep((MANAGER,), "any"), ResolvedStep((STEP2,), "any")))
    first = await decide(run, request, ADMIN, Decision.APPROVE, seen_step=0)
    assert (first.outcome, first.request.current_step) == ("advanced", 1)
    for decision in (Decision.APPROVE, Decision.REJECT):
        with pytest.raises(ReviewConflict) as again:
            await decide(run, request, ADMIN, decision, seen_step=0, feedback=Feedback(reasons=("tone",)))
        assert again.value.render(translator("en")) == (
            "This request moved on while your form was open: step 1 of 2 was already approved by "
            f"<@{ADMIN}>. Your answer was not recorded; open the request again to see where it stands."
        )
    with pytest.raises(ReviewConflict) as unbound:
        await decide(run, request, ADMIN, Decision.APPROVE, seen_step=None)
    assert unbound.value.key == "review.errors.form_outdated"
    assert [e[0] for e in await events(run, request.id)] == ["requested", "step_approved"]
