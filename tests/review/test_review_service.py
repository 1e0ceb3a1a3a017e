"""Review rules and store on SQLite and PostgreSQL: decisions, chains, resubmission, publishing, lists,
the audit trail and the reminder claims."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.calendars import working_hours_calendar
from bot.db import make_sessionmaker
from bot.errors import BotError
from bot.i18n import translator
from bot.kpi.models import Post
from bot.kpi.service import sync_accounts
from bot.review import alerts, commands, queries
from bot.review.ids import Decision, RequestRef, Status
from bot.review.models import ReviewEvent, ReviewRequest, ReviewRevision
from bot.review.policy import ResolvedStep
from bot.review.records import Decider, Feedback, RequestSnapshot
from bot.review.refusals import ReviewConflict, ReviewNotAllowed, ReviewNotFound
from tests.conftest import ADMIN, MANAGER, MANAGER2, NOW, OPERATOR, make_settings

T = TypeVar("T")
OTHER = "U0BOB0001"
STEP2 = "U0STEP2001"  # an approver of a later step who is not a manager
SETTINGS = make_settings()
NO_FEEDBACK = Feedback()


@pytest.fixture
async def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    maker = make_sessionmaker(engine)
    async with maker.begin() as session:
        await sync_accounts(session, accounts=SETTINGS.accounts)
    return maker


@pytest.fixture
def run(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[Callable[[AsyncSession], Awaitable[T]]], Awaitable[T]]:
    async def in_tx(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with sessions.begin() as session:
            return await work(session)

    return in_tx


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
    ) == ("x_corp", "x", url, url, OPERATOR, request.id, "review", "冬の新商品です")
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
                url=url,
                published_at=NOW,
                now=NOW,
            )
        )
    assert (taken.value.key, taken.value.block_id) == ("review.errors.url_taken", "review_post_url")
    assert [e[0] for e in await events(run, request.id)] == ["requested", "approved", "published"]


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


async def test_alert_claims_are_sent_once_and_wait_for_working_hours(run: Any) -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["review"].update(remind_after_hours=2, escalate_after_hours=40)

    review = make_settings(change=change).review
    calendar = working_hours_calendar(review.working_hours, SETTINGS.tz)
    request = await create(run)  # Wednesday 10:00 JST

    async def claim(minutes: float) -> Any:
        return await run(
            lambda s: alerts.claim_alert(
                s,
                request_id=request.id,
                now=NOW + timedelta(minutes=minutes),
                review=review,
                calendar=calendar,
            )
        )

    assert await run(lambda s: alerts.due_alerts(s, now=NOW)) == [request.id]
    assert await claim(0) is None  # not due: the next check moves to 12:00
    assert await run(lambda s: alerts.due_alerts(s, now=NOW + timedelta(minutes=119))) == []
    first = await claim(120)
    assert (first.kind, first.number) == ("remind", 1)
    assert await claim(120) is None  # the next one is 4 working hours later
    row = await run(lambda s: s.get(ReviewRequest, request.id))
    assert (row.reminders_sent, row.next_reminder_at) == (1, NOW + timedelta(hours=6))
    # A sweep running at night finds the reminder due but waits for the morning.
    assert await claim(60 * 12) is None
    row = await run(lambda s: s.get(ReviewRequest, request.id))
    assert row.next_reminder_at == NOW + timedelta(hours=23)  # Thursday 09:00
    assert [e[0] for e in await events(run, request.id)] == ["requested", "reminded"]


async def test_an_alert_claimed_elsewhere_rolls_back(run: Any) -> None:
    from bot.keys import claim_key
    from bot.review.policy import next_alert

    review = SETTINGS.review
    calendar = working_hours_calendar(review.working_hours, SETTINGS.tz)
    request = await create(run)  # due in two days: the escalation comes before the first reminder
    alert = next_alert(
        waiting_since=NOW,
        reminders_sent=0,
        escalated=False,
        due_at=request.due_at,
        settings=review,
        calendar=calendar,
    )
    assert alert.kind == "escalate"
    await run(lambda s: claim_key(s, key=f"review:{request.id}:1:0:escalate:1", now=NOW))
    with pytest.raises(alerts.AlreadyClaimed):
        await run(
            lambda s: alerts.claim_alert(
                s, request_id=request.id, now=alert.at, review=review, calendar=calendar
            )
        )
    row = await run(lambda s: s.get(ReviewRequest, request.id))
    assert (row.reminders_sent, row.escalated_at, row.version) == (0, None, 1)
    assert [e[0] for e in await events(run, request.id)] == ["requested"]


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
