"""Review changes in the store on SQLite and PostgreSQL: creating, deciding and advancing chains, comments,
resubmission and publishing, with the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.errors import BotError
from bot.i18n import translator
from bot.kpi.models import Post
from bot.review import commands, queries
from bot.review.ids import Decision, RequestRef, Status
from bot.review.models import ReviewEvent, ReviewRevision
from bot.review.policy import ResolvedStep
from bot.review.records import Feedback
from bot.review.refusals import ReviewConflict, ReviewNotAllowed
from tests.conftest import ADMIN, MANAGER, MANAGER2, NOW, OPERATOR
from tests.review.store_support import OTHER, SETTINGS, create, decide, events


async def test_create_stores_the_request_its_first_revision_approvers_and_event(run: Any) -> None:
    request = await create(
        run, chain=(ResolvedStep((MANAGER,), "any"), ResolvedStep((MANAGER2, ADMIN), "all"))
    )
    assert (request.status, request.revision, request.version, request.current_step) == (
        Status.PENDING,
        1,
        1,
        0,
    )
    assert request.text == "冬の新商品です"
    assert request.due_at == request.planned_at == NOW + timedelta(days=2)
    assert [(s.approvers, s.mode) for s in request.steps] == [((MANAGER,), "any"), ((MANAGER2, ADMIN), "all")]
    assert await events(run, request.id) == [("requested", OPERATOR, 1, None)]


async def test_any_approver_approves_and_the_request_is_decided(run: Any) -> None:
    request = await create(run)
    result = await decide(run, request, MANAGER2, Decision.APPROVE, feedback=Feedback(comment="いいですね"))
    assert result.outcome == "approved"
    assert result.request.status is Status.APPROVED
    assert result.request.decided_at == NOW + timedelta(minutes=30)
    assert result.request.version == 2
    assert result.request.last_decision is not None and result.request.last_decision.actor_id == MANAGER2
    assert await events(run, request.id) == [("requested", OPERATOR, 1, None), ("approved", MANAGER2, 1, 0)]


async def test_request_changes_stores_structured_feedback(run: Any) -> None:
    request = await create(run)
    feedback = Feedback(
        what_works="導入", what_to_change="語尾", comment="全体に良い", reasons=("tone", "typo")
    )
    result = await decide(run, request, MANAGER, Decision.REQUEST_CHANGES, feedback=feedback)
    assert result.request.status is Status.CHANGES_REQUESTED
    assert result.request.decided_at is None  # not a final decision
    row = await run(lambda s: s.scalar(select(ReviewEvent).where(ReviewEvent.kind == "changes_requested")))
    assert (row.what_works, row.what_to_change, row.comment, row.reasons) == (
        "導入",
        "語尾",
        "全体に良い",
        ["tone", "typo"],
    )


async def test_comment_changes_nothing_but_the_audit_trail(run: Any) -> None:
    request = await create(run)
    result = await decide(run, request, MANAGER, Decision.COMMENT, feedback=Feedback(comment="質問です"))
    assert result.outcome == "commented"
    after = await run(lambda s: queries.get_request(s, request_id=request.id))
    assert (after.status, after.version) == (Status.PENDING, 1)
    assert (await events(run, request.id))[-1] == ("commented", MANAGER, 1, 0)


async def test_chain_advances_step_by_step_and_all_mode_needs_everyone(run: Any) -> None:
    chain = (ResolvedStep((MANAGER,), "any"), ResolvedStep((MANAGER2, ADMIN), "all"))
    request = await create(run, chain=chain)
    first = await decide(run, request, MANAGER, Decision.APPROVE)
    assert (first.outcome, first.request.current_step, first.request.waiting_since) == (
        "advanced",
        1,
        NOW + timedelta(minutes=30),
    )
    second = await decide(run, first.request, MANAGER2, Decision.APPROVE, minutes=40)
    assert (second.outcome, second.request.status) == ("step_approved", Status.PENDING)
    assert second.request.step is not None and second.request.step.waiting_on == (ADMIN,)
    with pytest.raises(ReviewConflict) as again:
        await decide(run, second.request, MANAGER2, Decision.APPROVE, minutes=41)
    assert (
        again.value.render(translator("en"))
        == "You have already approved this step. It is waiting on <@U0ADMIN001>."
    )
    last = await decide(run, second.request, ADMIN, Decision.APPROVE, minutes=50)
    assert (last.outcome, last.request.status) == ("approved", Status.APPROVED)
    assert await events(run, request.id) == [
        ("requested", OPERATOR, 1, None),
        ("step_approved", MANAGER, 1, 0),
        ("step_approved", MANAGER2, 1, 1),
        ("approved", ADMIN, 1, 1),
    ]


async def test_resubmit_stores_a_revision_and_restarts_the_chain(run: Any) -> None:
    chain = (ResolvedStep((MANAGER,), "any"), ResolvedStep((MANAGER2,), "any"))
    request = await create(run, chain=chain)
    advanced = await decide(run, request, MANAGER, Decision.APPROVE)
    changes = await decide(
        run,
        advanced.request,
        MANAGER2,
        Decision.REQUEST_CHANGES,
        feedback=Feedback(reasons=("typo",)),
        minutes=40,
    )
    with pytest.raises(ReviewNotAllowed):
        await run(
            lambda s: commands.resubmit(
                s,
                ref=changes.request.ref,
                actor_id=MANAGER,
                text="x",
                planned_at=None,
                link_url=None,
                note="",
                now=NOW,
            )
        )
    result = await run(
        lambda s: commands.resubmit(
            s,
            ref=changes.request.ref,
            actor_id=OPERATOR,
            text="冬の新商品です！",
            planned_at=NOW + timedelta(days=3),
            link_url="https://example.com/i.png",
            note="誤字を直しました",
            now=NOW + timedelta(hours=1),
        )
    )
    after = result.request
    assert result.previous_text == "冬の新商品です"
    assert (after.status, after.revision, after.current_step, after.text) == (
        Status.PENDING,
        2,
        0,
        "冬の新商品です！",
    )
    assert (after.due_at, after.link_url, after.feedback_wanted) == (
        NOW + timedelta(days=3),
        "https://example.com/i.png",
        "誤字を直しました",
    )
    assert all(step.approved_by == () for step in after.steps)  # approvals belong to revision 1
    texts = await run(
        lambda s: s.execute(
            select(ReviewRevision.number, ReviewRevision.text)
            .where(ReviewRevision.request_id == request.id)
            .order_by(ReviewRevision.number)
        )
    )
    assert [tuple(r) for r in texts] == [(1, "冬の新商品です"), (2, "冬の新商品です！")]
    # A button rendered for revision 1 can no longer decide revision 2.
    with pytest.raises(ReviewConflict) as stale:
        await decide(run, request, MANAGER, Decision.APPROVE, ref=RequestRef(request.id, 1, 1), minutes=70)
    assert "revision 2" in stale.value.render(translator("en"))
    # Resubmitting twice from the same DM button is refused.
    with pytest.raises(ReviewConflict):
        await run(
            lambda s: commands.resubmit(
                s,
                ref=changes.request.ref,
                actor_id=OPERATOR,
                text="y",
                planned_at=None,
                link_url=None,
                note="",
                now=NOW,
            )
        )


async def test_publish_adds_the_post_to_the_kpi_store(run: Any) -> None:
    request = await create(run)
    approved = (await decide(run, request, MANAGER, Decision.APPROVE)).request
    account = SETTINGS.account("x_corp")
    assert account is not None
    url = "https://x.com/example_corp/status/1860000000000000001"
    with pytest.raises(ReviewNotAllowed):
        await run(
            lambda s: commands.publish(
                s,
                ref=approved.ref,
                actor_id=OTHER,
                is_admin=False,
                account=account,
                url=url,
                published_at=NOW,
                now=NOW,
            )
        )
    result = await run(
        lambda s: commands.publish(
            s,
            ref=approved.ref,
            actor_id=OPERATOR,
            is_admin=False,
            account=account,
            url=url,
            published_at=NOW + timedelta(hours=5),
            now=NOW + timedelta(hours=6),
        )
    )
    assert result.request.status is Status.PUBLISHED
    assert result.request.post_url == url
    post = await run(lambda s: s.scalar(select(Post)))
    assert (
        post.account_key,
        post.platform,
        post.external_id,
        post.url,
        post.author,
        post.review_request_id,
        post.source,
        post.text,
    ) == ("x_corp", "x", "1860000000000000001", url, OPERATOR, request.id, "review", "冬の新商品です")
    assert post.published_at == NOW + timedelta(hours=5)
    with pytest.raises(ReviewConflict):  # already published
        await run(
            lambda s: commands.publish(
                s,
                ref=result.request.ref,
                actor_id=OPERATOR,
                is_admin=False,
                account=account,
                url=url + "2",
                published_at=NOW,
                now=NOW,
            )
        )
    other = await create(run, text="別の投稿")
    other_ok = (await decide(run, other, MANAGER, Decision.APPROVE)).request
    with pytest.raises(BotError) as taken:
        await run(
            lambda s: commands.publish(
                s,
                ref=other_ok.ref,
                actor_id=OPERATOR,
                is_admin=False,
                account=account,
                # The same post written another way is the same post.
                url="https://mobile.twitter.com/example_corp/status/1860000000000000001?s=20",
                published_at=NOW,
                now=NOW,
            )
        )
    assert (taken.value.key, taken.value.block_id) == ("review.errors.url_taken", "review_post_url")
    assert [e[0] for e in await events(run, request.id)] == ["requested", "approved", "published"]
