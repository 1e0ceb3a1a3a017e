"""Changing reviews in the store: create a request, record a decision or comment, resubmit, mark as
published (I/O through a passed-in AsyncSession; no Slack).

Every state change is a conditional ``UPDATE review_request … WHERE id = :id AND version = :seen
AND status = :expected``; when it changes no row, somebody else acted first, so the request is read
again and the rules (:mod:`bot.review.checks`) are checked again, which refuses the late click and
says who decided. On PostgreSQL the losing UPDATE waits for the winner's commit and then matches
nothing; on SQLite the writers are serialised by the database lock. Events are only ever inserted
(the audit trail).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AccountSettings
from bot.errors import BotError
from bot.kpi.published import record_published_post
from bot.review.checks import authorize, check_comment, check_requester
from bot.review.ids import ApprovalMode, BlockId, Decision, EventKind, Outcome, RequestRef, Status
from bot.review.models import ReviewApprover, ReviewEvent, ReviewRequest, ReviewRevision
from bot.review.policy import ResolvedStep, approval_completes
from bot.review.queries import get_request, load_row, snapshots
from bot.review.records import (
    Decider,
    DecisionResult,
    Feedback,
    PublishResult,
    RequestSnapshot,
    ResubmitResult,
    first_state,
)
from bot.review.refusals import ReviewConflict, ReviewNotAllowed

log = logging.getLogger(__name__)

#: How often a decision re-reads the request after losing a race before giving up.
MAX_ATTEMPTS = 4


def new_event(
    request_id: int,
    kind: EventKind,
    *,
    actor_id: str | None,
    revision: int,
    now: datetime,
    step: int | None = None,
    feedback: Feedback | None = None,
    data: dict[str, Any] | None = None,
) -> ReviewEvent:
    """One row of the audit trail (only ever inserted)."""
    return ReviewEvent(
        request_id=request_id,
        kind=kind.value,
        actor_id=actor_id,
        revision=revision,
        step=step,
        created_at=now,
        what_works=(feedback.what_works or None) if feedback else None,
        what_to_change=(feedback.what_to_change or None) if feedback else None,
        comment=(feedback.comment or None) if feedback else None,
        reasons=list(feedback.reasons) if feedback and feedback.reasons else None,
        data=data,
    )


async def create_request(session: AsyncSession, **fields: Any) -> RequestSnapshot:
    """:func:`insert_request` (same keyword arguments), then the new request read back."""
    return await get_request(session, request_id=await insert_request(session, **fields))


async def insert_request(
    session: AsyncSession,
    *,
    requester_id: str,
    account_key: str,
    text: str,
    planned_at: datetime | None,
    link_url: str | None,
    feedback_wanted: str,
    chain: Sequence[ResolvedStep],
    now: datetime,
    invitees: Sequence[str] = (),
    due_at: datetime | None = None,
) -> int:
    """Store a new request waiting on the first step of ``chain``; its id. Only writes, so that a
    submission's transaction (before its ack, holding SQLite's write lock) stays short.

    The reminder sweep picks it up at once (``next_reminder_at = now``) and works out when its
    first reminder is due. ``invitees`` (reviewers the requester picked who approve no step, see
    :func:`bot.review.policy.invitees`) are kept in the ``requested`` event.
    """
    if not chain or not all(step.approvers for step in chain):
        raise BotError("review.errors.no_approvers")
    row = ReviewRequest(
        requester_id=requester_id,
        account_key=account_key,
        link_url=link_url,
        feedback_wanted=feedback_wanted,
        next_reminder_at=now,
        reminders_sent=0,
        **{**first_state(planned_at=planned_at, now=now, due_at=due_at), "status": Status.PENDING.value},
    )
    session.add(row)
    await session.flush()
    session.add(
        ReviewRevision(request_id=row.id, number=1, text=text, author_id=requester_id, created_at=now)
    )
    for number, step in enumerate(chain):
        for user_id in dict.fromkeys(step.approvers):
            session.add(
                ReviewApprover(
                    request_id=row.id, step=number, user_id=user_id, mode=ApprovalMode(step.mode).value
                )
            )
    session.add(
        new_event(
            row.id,
            EventKind.REQUESTED,
            actor_id=requester_id,
            revision=1,
            now=now,
            data={"steps": len(chain), "invitees": list(dict.fromkeys(invitees))},
        )
    )
    await session.flush()
    return row.id


async def attach_message(session: AsyncSession, *, request_id: int, channel_id: str, message_ts: str) -> None:
    """Remember where the request's channel message is (a repost after a deleted message moves it)."""
    await session.execute(
        update(ReviewRequest)
        .where(ReviewRequest.id == request_id)
        .values(channel_id=channel_id, message_ts=message_ts)
    )


async def guarded_update(
    session: AsyncSession, row: ReviewRequest, *, expected: Status, **values: Any
) -> bool:
    """The optimistic lock: True when this call moved ``row`` on from the version it read."""
    result = await session.execute(
        update(ReviewRequest)
        .where(
            ReviewRequest.id == row.id,
            ReviewRequest.version == row.version,
            ReviewRequest.status == expected.value,
        )
        .values(version=row.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def decide(
    session: AsyncSession,
    *,
    ref: RequestRef,
    decider: Decider,
    decision: Decision,
    feedback: Feedback,
    now: datetime,
    seen_step: int | None = None,
) -> DecisionResult:
    """Record a reviewer's answer: approve (advancing the chain), request changes, reject, or comment.

    Rules: nobody decides on their own request; who may decide is
    :func:`bot.review.policy.authority` (the current step's configured approvers, their delegates
    while they are away, configured managers and admins); only a pending request of the revision
    *and step* the reviewer saw can be decided, so one approval is one step. Comments (which change
    no status) follow :func:`bot.review.policy.may_comment` while the request is open.

    Args:
        seen_step: the step the decision modal showed (``ModalMeta.step``); required for approve,
            request changes and reject (a modal without it is refused, never guessed).

    Raises:
        ReviewNotAllowed: own request, not allowed to decide.
        ReviewConflict: decided, resubmitted or moved to another step meanwhile; already approved.
        ReviewNotFound: no such request.
    """
    if decision is Decision.COMMENT:
        return await _comment(session, ref=ref, decider=decider, feedback=feedback, now=now)
    for _attempt in range(MAX_ATTEMPTS):
        row = await load_row(session, ref.request_id)
        snapshot = (await snapshots(session, [row]))[0]
        try:
            granted = authorize(
                snapshot,
                decider=decider,
                decision=decision,
                revision=ref.revision,
                seen_step=seen_step,
                checking=False,
            )
        except (ReviewConflict, ReviewNotAllowed):
            # On PostgreSQL the row and its events are read by two statements: a decision committed
            # between them gives a stale row with fresh events (e.g. "already approved" by the one
            # whose approval moved the step on). Refuse only on a consistent read.
            if (
                await session.scalar(select(ReviewRequest.version).where(ReviewRequest.id == row.id))
                != row.version
            ):
                log.info("review %s: read while it changed; reading again", row.id)
                continue
            raise
        step = snapshot.step
        step_number = row.current_step
        if decision is Decision.APPROVE:
            done = approval_completes(
                mode=step.mode if step else ApprovalMode.ANY,
                approvers=step.approvers if step else (),
                approved_by=step.approved_by if step else (),
                new=granted,
            )
            last_step = step_number >= len(snapshot.steps) - 1
            if not done:
                outcome, kind, values = Outcome.STEP_APPROVED, EventKind.STEP_APPROVED, {}
            elif last_step:
                outcome, kind = Outcome.APPROVED, EventKind.APPROVED
                values = {"status": Status.APPROVED.value, "decided_at": now, "next_reminder_at": None}
            else:
                outcome, kind = Outcome.ADVANCED, EventKind.STEP_APPROVED
                values = {
                    "current_step": step_number + 1,
                    "waiting_since": now,
                    "reminders_sent": 0,
                    "escalated_at": None,
                    "next_reminder_at": now,
                }
        elif decision is Decision.REQUEST_CHANGES:
            outcome, kind = Outcome.CHANGES_REQUESTED, EventKind.CHANGES_REQUESTED
            values = {"status": Status.CHANGES_REQUESTED.value, "next_reminder_at": None}
        else:
            outcome, kind = Outcome.REJECTED, EventKind.REJECTED
            values = {"status": Status.REJECTED.value, "decided_at": now, "next_reminder_at": None}
        if not await guarded_update(session, row, expected=Status.PENDING, **values):
            log.info(
                "review %s: lost a race deciding (%s by %s); reading again", row.id, decision, decider.user_id
            )
            continue
        data: dict[str, Any] = {"as": granted.kind.value}
        if granted.on_behalf_of:
            data["on_behalf_of"] = list(granted.on_behalf_of)
        session.add(
            new_event(
                row.id,
                kind,
                actor_id=decider.user_id,
                revision=row.revision,
                step=step_number,
                now=now,
                feedback=feedback,
                data=data,
            )
        )
        await session.flush()
        return DecisionResult(
            request=await get_request(session, request_id=row.id),
            decision=decision,
            actor_id=decider.user_id,
            feedback=feedback,
            outcome=outcome,
            at=now,
            step=step_number,
            on_behalf_of=granted.on_behalf_of,
        )
    raise ReviewConflict("review.errors.busy")


async def _comment(
    session: AsyncSession,
    *,
    ref: RequestRef,
    decider: Decider,
    feedback: Feedback,
    now: datetime,
) -> DecisionResult:
    snapshot = await get_request(session, request_id=ref.request_id)
    check_comment(snapshot, decider)
    session.add(
        new_event(
            snapshot.id,
            EventKind.COMMENTED,
            actor_id=decider.user_id,
            revision=snapshot.revision,
            step=snapshot.current_step,
            now=now,
            feedback=feedback,
        )
    )
    await session.flush()
    return DecisionResult(
        request=snapshot,
        decision=Decision.COMMENT,
        actor_id=decider.user_id,
        feedback=feedback,
        outcome=Outcome.COMMENTED,
        at=now,
        step=snapshot.current_step,
    )


async def resubmit(
    session: AsyncSession,
    *,
    ref: RequestRef,
    actor_id: str,
    text: str,
    planned_at: datetime | None,
    link_url: str | None,
    note: str,
    now: datetime,
    due_at: datetime | None = None,
) -> ResubmitResult:
    """Store a new revision after changes were requested; the chain starts again at its first step.

    Raises:
        ReviewNotAllowed: not the requester.
        ReviewConflict: not waiting for a resubmission (any more), or an older revision's button.
    """
    for _attempt in range(MAX_ATTEMPTS):
        before = await check_requester(session, ref=ref, actor_id=actor_id, expected=Status.CHANGES_REQUESTED)
        row = await load_row(session, ref.request_id)
        revision = row.revision + 1
        moved = await guarded_update(
            session,
            row,
            expected=Status.CHANGES_REQUESTED,
            status=Status.PENDING.value,
            revision=revision,
            current_step=0,
            planned_at=planned_at,
            due_at=due_at or planned_at,
            link_url=link_url,
            feedback_wanted=note or row.feedback_wanted,
            waiting_since=now,
            reminders_sent=0,
            escalated_at=None,
            next_reminder_at=now,
        )
        if not moved:
            continue
        session.add(
            ReviewRevision(request_id=row.id, number=revision, text=text, author_id=actor_id, created_at=now)
        )
        session.add(
            new_event(
                row.id,
                EventKind.RESUBMITTED,
                actor_id=actor_id,
                revision=revision,
                step=0,
                now=now,
                feedback=Feedback(comment=note),
            )
        )
        await session.flush()
        return ResubmitResult(
            request=await get_request(session, request_id=row.id), previous_text=before.text, at=now
        )
    raise ReviewConflict("review.errors.busy")


async def publish(
    session: AsyncSession,
    *,
    ref: RequestRef,
    actor_id: str,
    is_admin: bool,
    account: AccountSettings,
    url: str,
    published_at: datetime,
    now: datetime,
) -> PublishResult:
    """Mark an approved request as published and add the post to the KPI store as the one post that
    exports and collectors report (:func:`bot.kpi.published.record_published_post`: keyed by the
    platform id the URL carries, an already imported post claimed with the requester as author).

    Raises:
        ReviewNotAllowed: neither the requester nor an admin.
        ReviewConflict: not approved (or already published).
        BotError: ``review.errors.url_taken`` (block ``review_post_url``) when another review
            already published that post.
    """
    for _attempt in range(MAX_ATTEMPTS):
        snapshot = await check_requester(
            session, ref=ref, actor_id=actor_id, expected=Status.APPROVED, is_admin=is_admin
        )
        row = await load_row(session, ref.request_id)
        if not await guarded_update(
            session, row, expected=Status.APPROVED, status=Status.PUBLISHED.value, published_at=published_at
        ):
            continue
        post = await record_published_post(
            session,
            account_key=account.key,
            platform=account.platform,
            url=url,
            published_at=published_at,
            text=snapshot.text,
            author=snapshot.requester_id,
            review_request_id=snapshot.id,
            now=now,
        )
        if post is None:  # another review's post; the status update rolls back with the error
            raise BotError("review.errors.url_taken", block_id=BlockId.POST_URL)
        session.add(
            new_event(
                row.id,
                EventKind.PUBLISHED,
                actor_id=actor_id,
                revision=row.revision,
                now=now,
                data={"url": url, "published_at": published_at.isoformat()},
            )
        )
        await session.flush()
        return PublishResult(
            request=await get_request(session, request_id=row.id), url=url, published_at=published_at
        )
    raise ReviewConflict("review.errors.busy")
