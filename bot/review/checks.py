"""The rules a review action must pass on the request as it is now: who may decide, comment, resubmit or
publish, in which state, revision and step (reads through a passed-in AsyncSession; writes nothing).

They raise :mod:`bot.review.refusals` errors. :mod:`bot.review.commands` checks them again inside
its guarded writes; the listeners check them at the click, so a refusal comes before any typing.
Who may decide at all is :func:`bot.review.policy.authority`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.review.ids import OPEN_FOR_COMMENT, Decision, RequestRef, Status
from bot.review.policy import Authority, authority, may_comment
from bot.review.queries import get_request
from bot.review.records import Decider, RequestSnapshot
from bot.review.refusals import ReviewConflict, ReviewNotAllowed


def closed(snapshot: RequestSnapshot) -> ReviewConflict:
    """The refusal for a request that is no longer open: its state, and who decided it."""
    last = snapshot.last_decision
    return ReviewConflict(
        "review.errors.closed",
        status=snapshot.status.value,
        who=last.actor_id if last else None,
    )


def authorize(
    snapshot: RequestSnapshot,
    *,
    decider: Decider,
    decision: Decision,
    revision: int,
    seen_step: int | None,
    checking: bool,
) -> Authority:
    """The rules of a decision on ``snapshot`` as it is now (the one copy that
    :func:`bot.review.commands.decide` and :func:`check_can_decide` share); who may decide is
    :func:`bot.review.policy.authority`.

    ``seen_step`` is the step the decision modal showed: a decision counts for that step only, so a
    repeated or late submission never approves the step after it. ``checking``: at the click, before
    any modal exists (nothing to bind yet).
    """
    actor = decider.user_id
    if actor == snapshot.requester_id:
        raise ReviewNotAllowed("review.errors.own_request")
    if snapshot.status is not Status.PENDING:
        raise closed(snapshot)
    if snapshot.revision != revision:
        raise ReviewConflict("review.errors.stale", revision=snapshot.revision)
    step = snapshot.step
    if seen_step is not None and seen_step > snapshot.current_step:
        # Steps only move forward within a revision: no modal ever showed a later step.
        raise ReviewConflict("review.errors.wrong_step")
    if seen_step is not None and seen_step < snapshot.current_step:
        seen = snapshot.steps[seen_step] if 0 <= seen_step < len(snapshot.steps) else None
        raise ReviewConflict(
            "review.errors.moved_on",
            step=seen_step + 1,
            steps=max(len(snapshot.steps), 1),
            users=list(seen.approved_by if seen else ()),
        )
    approvers = step.approvers if step else ()
    granted = authority(
        actor=actor,
        approvers=approvers,
        delegators=decider.delegators,
        is_manager=decider.is_manager,
        is_admin=decider.is_admin,
    )
    if granted is None:
        key = (
            "review.errors.invitee_not_approver"
            if actor in snapshot.invitees
            else "review.errors.not_approver"
        )
        raise ReviewNotAllowed(key, users=list(approvers))
    if seen_step is None and not checking:
        raise ReviewConflict("review.errors.form_outdated")
    if decision is Decision.APPROVE and not granted.override:
        approved_by = step.approved_by if step else ()
        open_seats = tuple(u for u in granted.seats if u not in approved_by)
        if not open_seats and actor not in approvers and (decider.is_manager or decider.is_admin):
            # A delegate whose away approvers have all approved is still a manager (rule 4).
            return Authority(override=True)
        if not open_seats:
            raise ReviewConflict(
                "review.errors.already_approved", users=list(step.waiting_on if step else ())
            )
        granted = Authority(
            seats=open_seats, on_behalf_of=tuple(u for u in granted.on_behalf_of if u in open_seats)
        )
    return granted


def check_comment(snapshot: RequestSnapshot, decider: Decider) -> None:
    """Structured comments (:func:`bot.review.policy.may_comment`) while the request is open."""
    if decider.user_id == snapshot.requester_id:
        raise ReviewNotAllowed("review.errors.own_comment")
    if snapshot.status not in OPEN_FOR_COMMENT:
        raise closed(snapshot)
    if not may_comment(
        actor=decider.user_id,
        requester=snapshot.requester_id,
        approvers={u for step in snapshot.steps for u in step.approvers},
        invitees=snapshot.invitees,
        is_manager=decider.is_manager,
        is_admin=decider.is_admin,
    ):
        raise ReviewNotAllowed("review.errors.not_reviewer")


async def check_can_decide(
    session: AsyncSession, *, ref: RequestRef, decider: Decider, decision: Decision
) -> RequestSnapshot:
    """The same rules as :func:`bot.review.commands.decide`, checked before a feedback modal opens
    (nothing is written), so a refusal comes at the click rather than after typing. The modal then
    carries the step it shows (``ModalMeta.step``), and its submission counts for that step only."""
    snapshot = await get_request(session, request_id=ref.request_id)
    if decision is Decision.COMMENT:
        check_comment(snapshot, decider)
        return snapshot
    authorize(
        snapshot, decider=decider, decision=decision, revision=ref.revision, seen_step=None, checking=True
    )
    return snapshot


async def check_requester(
    session: AsyncSession, *, ref: RequestRef, actor_id: str, expected: Status, is_admin: bool = False
) -> RequestSnapshot:
    """The request, when ``actor_id`` asked for it (or is an admin) and it is in state ``expected``."""
    snapshot = await get_request(session, request_id=ref.request_id)
    if actor_id != snapshot.requester_id and not is_admin:
        raise ReviewNotAllowed("review.errors.not_requester", who=snapshot.requester_id)
    if snapshot.status is not expected:
        key = (
            "review.errors.not_resubmittable"
            if expected is Status.CHANGES_REQUESTED
            else "review.errors.not_publishable"
        )
        raise ReviewConflict(key, status=snapshot.status.value)
    if snapshot.revision != ref.revision:
        raise ReviewConflict("review.errors.stale", revision=snapshot.revision)
    return snapshot
