"""Review rules and store: create, decide, resubmit, publish, list, and the reminder claims (I/O through a
passed-in AsyncSession; no Slack).

Every state change is a conditional ``UPDATE review_request … WHERE id = :id AND version = :seen
AND status = :expected``; when it changes no row, somebody else acted first, so the request is read
again and the rules are checked again (which refuses the late click and says who decided). On
PostgreSQL the losing UPDATE waits for the winner's commit and then matches nothing; on SQLite the
writers are serialised by the database lock. Events are only ever inserted (the audit trail).

Public API used by other features (keep the names): :func:`open_requests_for`,
:func:`waiting_on`; cycle time lives in :mod:`bot.review.policy`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, bindparam, case, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AccountSettings, ReviewSettings
from bot.errors import BotError
from bot.keys import claim_key
from bot.kpi.models import Post
from bot.review.ids import (
    OPEN_FOR_COMMENT,
    Decision,
    EventKind,
    RequestRef,
    Status,
)
from bot.review.models import ReviewApprover, ReviewEvent, ReviewRequest, ReviewRevision
from bot.review.policy import (
    AlertKind,
    Authority,
    ResolvedStep,
    approval_completes,
    authority,
    may_comment,
    next_alert,
)
from bot.review.records import (
    DecisionResult,
    Feedback,
    LastDecision,
    PublishResult,
    RequestList,
    RequestSnapshot,
    ResubmitResult,
    StepView,
)
from bot.review.refusals import ReviewConflict, ReviewNotAllowed, ReviewNotFound
from bot.workdays import WorkCalendar

log = logging.getLogger(__name__)

#: How often a decision re-reads the request after losing a race before giving up.
MAX_ATTEMPTS = 4
#: Rows shown by ``/sns-review list`` per section.
LIST_LIMIT = 20

_APPROVAL_KINDS = (EventKind.STEP_APPROVED.value, EventKind.APPROVED.value)
_DECISION_KINDS = (
    EventKind.APPROVED.value,
    EventKind.CHANGES_REQUESTED.value,
    EventKind.REJECTED.value,
    EventKind.PUBLISHED.value,
)
_OPEN_STATUSES = (Status.PENDING.value, Status.CHANGES_REQUESTED.value, Status.APPROVED.value)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


#: The request columns a snapshot needs (listings read these, not ORM entities).
_REQUEST_COLUMNS = (
    ReviewRequest.id,
    ReviewRequest.requester_id,
    ReviewRequest.account_key,
    ReviewRequest.status,
    ReviewRequest.current_step,
    ReviewRequest.revision,
    ReviewRequest.version,
    ReviewRequest.planned_at,
    ReviewRequest.due_at,
    ReviewRequest.link_url,
    ReviewRequest.feedback_wanted,
    ReviewRequest.channel_id,
    ReviewRequest.message_ts,
    ReviewRequest.created_at,
    ReviewRequest.waiting_since,
    ReviewRequest.decided_at,
    ReviewRequest.published_at,
)


def _post_url_of(request_id: Any) -> Any:
    """The URL (else the external id) of the newest post published through the request."""
    return (
        select(case((and_(Post.url.is_not(None), Post.url != ""), Post.url), else_=Post.external_id))
        .where(Post.review_request_id == request_id)
        .order_by(Post.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _listing(*where: ColumnElement[bool]) -> Select[Any]:
    """Requests matching ``where`` with their current revision's text and their post's URL, so
    a listing needs two more statements (approvers, events) and no ORM entities."""
    return (
        select(
            *_REQUEST_COLUMNS,
            ReviewRevision.text.label("text"),
            _post_url_of(ReviewRequest.id).label("post_url"),
        )
        .outerjoin(
            ReviewRevision,
            and_(
                ReviewRevision.request_id == ReviewRequest.id, ReviewRevision.number == ReviewRequest.revision
            ),
        )
        .where(*where)
    )


# The reading statements are built once, with bound parameters: building and cache-keying a
# statement of this size costs about 0.5 ms a call, as much as running it on an indexed store.
_IDS = bindparam("ids", expanding=True)
_USER = bindparam("user_id", type_=String)
_TEXTS = select(ReviewRevision.request_id, ReviewRevision.number, ReviewRevision.text).where(
    ReviewRevision.request_id.in_(_IDS)
)
_APPROVERS = (
    select(ReviewApprover.request_id, ReviewApprover.step, ReviewApprover.user_id, ReviewApprover.mode)
    .where(ReviewApprover.request_id.in_(_IDS))
    .order_by(ReviewApprover.request_id, ReviewApprover.step, ReviewApprover.id)
)
_EVENTS = (
    select(
        ReviewEvent.request_id,
        ReviewEvent.kind,
        ReviewEvent.actor_id,
        ReviewEvent.revision,
        ReviewEvent.step,
        ReviewEvent.created_at,
        ReviewEvent.reasons,
        ReviewEvent.data,
    )
    # No ``kind IN (…)`` here: SQLite would then walk the (kind, created_at) index over the whole
    # history instead of the request_id one; the loop in _snapshots skips the other kinds anyway.
    .where(ReviewEvent.request_id.in_(_IDS))
    .order_by(ReviewEvent.id)
)
_POST_URLS = (
    select(Post.review_request_id, Post.url, Post.external_id)
    .where(Post.review_request_id.in_(_IDS))
    .order_by(Post.id)
)


def open_for_clause(user_id: ColumnElement[str]) -> ColumnElement[bool]:
    """``user_id``'s unfinished requests: waiting, changes requested, or approved and not yet
    marked as published. The one definition for ``/sns-review list`` and the App Home."""
    return and_(ReviewRequest.requester_id == user_id, ReviewRequest.status.in_(_OPEN_STATUSES))


def waiting_on_clause(user_id: ColumnElement[str]) -> ColumnElement[bool]:
    """Pending requests whose current step lists ``user_id`` and that the user has not yet approved
    in this revision (an "all" step keeps waiting on the others after one approval); never the
    user's own. The one definition for ``/sns-review list`` and the App Home.

    EXISTS from the pending requests, not a join from the approver rows: a manager who approves
    everything has an approver row on every request ever made (50,000 at size L), and SQLite,
    without statistics, walked all of them through (user_id, request_id) to find the pending few.
    """
    in_step = exists().where(
        ReviewApprover.request_id == ReviewRequest.id,
        ReviewApprover.step == ReviewRequest.current_step,
        ReviewApprover.user_id == user_id,
    )
    approved = exists().where(
        ReviewEvent.request_id == ReviewRequest.id,
        ReviewEvent.kind.in_(_APPROVAL_KINDS),
        ReviewEvent.actor_id == user_id,
        ReviewEvent.revision == ReviewRequest.revision,
        ReviewEvent.step == ReviewRequest.current_step,
    )
    return and_(
        ReviewRequest.status == Status.PENDING.value,
        ReviewRequest.requester_id != user_id,
        in_step,
        ~approved,
    )


#: ``/sns-review list``, mine: newest first; waiting on the user: longest waiting first.
_OPEN_FOR = (
    _listing(open_for_clause(_USER))
    .order_by(ReviewRequest.created_at.desc(), ReviewRequest.id.desc())
    .limit(LIST_LIMIT)
)
_WAITING_ON = (
    _listing(waiting_on_clause(_USER))
    .order_by(ReviewRequest.waiting_since, ReviewRequest.id)
    .limit(LIST_LIMIT)
)
#: How many there are in all, asked only when a listing is full (most lists are short).
_COUNT_OPEN_FOR = select(func.count()).select_from(ReviewRequest).where(open_for_clause(_USER))
_COUNT_WAITING_ON = select(func.count()).select_from(ReviewRequest).where(waiting_on_clause(_USER))


async def _listed(
    session: AsyncSession, stmt: Select[Any], params: Mapping[str, Any]
) -> list[RequestSnapshot]:
    rows = (await session.execute(stmt, dict(params))).all()
    return await _snapshots(
        session,
        rows,
        texts={(r.id, r.revision): r.text for r in rows if r.text is not None},
        post_urls={r.id: r.post_url for r in rows if r.post_url},
    )


async def _snapshots(
    session: AsyncSession,
    rows: Sequence[Any],
    *,
    texts: Mapping[tuple[int, int], str] | None = None,
    post_urls: Mapping[int, str] | None = None,
) -> list[RequestSnapshot]:
    """Snapshots of ``rows`` (``ReviewRequest`` entities or rows of :data:`_REQUEST_COLUMNS`) with
    at most four batched queries, whatever the number of rows: revision texts and post URLs unless
    given (a listing reads them with its rows), approvers, events."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    if texts is None:
        texts = {
            (request_id, number): text
            for request_id, number, text in await session.execute(_TEXTS, {"ids": ids})
        }
    approvers: dict[int, dict[int, tuple[list[str], str]]] = defaultdict(dict)
    approver_rows = await session.execute(_APPROVERS, {"ids": ids})
    for request_id, step, user_id, mode in approver_rows:
        approvers[request_id].setdefault(step, ([], mode))[0].append(user_id)
    approvals: dict[tuple[int, int, int], list[str]] = defaultdict(list)
    last: dict[int, LastDecision] = {}
    invited: dict[int, tuple[str, ...]] = {}
    event_rows = await session.execute(_EVENTS, {"ids": ids})
    for request_id, kind, actor_id, revision, step, created_at, reasons, data in event_rows:
        if kind in _APPROVAL_KINDS and actor_id:
            # A delegate's approval fills the seats of the away approvers it was made for, too.
            approvals[(request_id, revision, step or 0)].extend(
                [actor_id, *_listed_users(data, "on_behalf_of")]
            )
        elif kind == EventKind.REQUESTED.value:
            invited[request_id] = _listed_users(data, "invitees")
        if kind in _DECISION_KINDS:
            last[request_id] = LastDecision(kind, actor_id, created_at, tuple(reasons or ()))
    if post_urls is None:
        found: dict[int, str] = {}
        post_rows = await session.execute(_POST_URLS, {"ids": ids})
        for request_id, url, external_id in post_rows:
            found[request_id] = url or external_id  # the newest post wins
        post_urls = found
    out = []
    for row in rows:
        steps = tuple(
            StepView(
                number=number,
                approvers=tuple(users),
                mode="all" if mode == "all" else "any",
                approved_by=tuple(dict.fromkeys(approvals.get((row.id, row.revision, number), []))),
            )
            for number, (users, mode) in sorted(approvers.get(row.id, {}).items())
        )
        out.append(
            RequestSnapshot(
                id=row.id,
                requester_id=row.requester_id,
                account_key=row.account_key,
                status=Status(row.status),
                current_step=row.current_step,
                revision=row.revision,
                version=row.version,
                text=texts.get((row.id, row.revision), ""),
                planned_at=row.planned_at,
                due_at=row.due_at,
                link_url=row.link_url,
                feedback_wanted=row.feedback_wanted or "",
                channel_id=row.channel_id,
                message_ts=row.message_ts,
                created_at=row.created_at,
                waiting_since=row.waiting_since,
                decided_at=row.decided_at,
                published_at=row.published_at,
                steps=steps,
                last_decision=last.get(row.id),
                post_url=post_urls.get(row.id),
                invitees=invited.get(row.id, ()),
            )
        )
    return out


def _listed_users(data: object, key: str) -> tuple[str, ...]:
    """User ids listed under ``key`` in an event's ``data`` (anything else is ignored)."""
    users = data.get(key) if isinstance(data, dict) else None
    return tuple(u for u in users if isinstance(u, str)) if isinstance(users, list) else ()


async def _row(session: AsyncSession, request_id: int) -> ReviewRequest:
    # populate_existing: after losing a race the row must be read again, not served from the identity map.
    row = await session.get(ReviewRequest, request_id, populate_existing=True)
    if row is None:
        raise ReviewNotFound("review.errors.not_found")
    return row


async def get_request(session: AsyncSession, *, request_id: int) -> RequestSnapshot:
    """The request as it is now.

    Raises:
        ReviewNotFound: no such request.
    """
    return (await _snapshots(session, [await _row(session, request_id)]))[0]


async def open_requests_for(session: AsyncSession, *, user_id: str) -> list[RequestSnapshot]:
    """``user_id``'s own requests that are not finished (waiting, changes requested, approved but not
    yet published), newest first, at most :data:`LIST_LIMIT`."""
    return await _listed(session, _OPEN_FOR, {"user_id": user_id})


async def waiting_on(session: AsyncSession, *, user_id: str) -> list[RequestSnapshot]:
    """Pending requests whose *current* step lists ``user_id`` and that ``user_id`` has not approved
    yet (:func:`waiting_on_clause`), the longest-waiting first, at most :data:`LIST_LIMIT`."""
    return await _listed(session, _WAITING_ON, {"user_id": user_id})


async def list_for(session: AsyncSession, *, user_id: str) -> RequestList:
    """``/sns-review list``: both listings, and their totals (counted only when a listing is full)."""
    mine = await open_requests_for(session, user_id=user_id)
    waiting = await waiting_on(session, user_id=user_id)
    params = {"user_id": user_id}
    return RequestList(
        mine=tuple(mine),
        waiting=tuple(waiting),
        mine_total=len(mine)
        if len(mine) < LIST_LIMIT
        else int(await session.scalar(_COUNT_OPEN_FOR, params)),
        waiting_total=(
            len(waiting)
            if len(waiting) < LIST_LIMIT
            else int(await session.scalar(_COUNT_WAITING_ON, params))
        ),
    )


# ---------------------------------------------------------------------------------------------
# Creating
# ---------------------------------------------------------------------------------------------


def _event(
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
        status=Status.PENDING.value,
        current_step=0,
        revision=1,
        version=1,
        planned_at=planned_at,
        due_at=planned_at,
        link_url=link_url,
        feedback_wanted=feedback_wanted,
        created_at=now,
        waiting_since=now,
        next_reminder_at=now,
        reminders_sent=0,
    )
    session.add(row)
    await session.flush()
    session.add(
        ReviewRevision(request_id=row.id, number=1, text=text, author_id=requester_id, created_at=now)
    )
    for number, step in enumerate(chain):
        for user_id in dict.fromkeys(step.approvers):
            session.add(ReviewApprover(request_id=row.id, step=number, user_id=user_id, mode=step.mode))
    session.add(
        _event(
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


# ---------------------------------------------------------------------------------------------
# Deciding
# ---------------------------------------------------------------------------------------------


def _closed(snapshot: RequestSnapshot) -> ReviewConflict:
    last = snapshot.last_decision
    return ReviewConflict(
        "review.errors.closed",
        status=snapshot.status.value,
        who=last.actor_id if last else None,
    )


async def _guarded_update(
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


@dataclass(frozen=True, slots=True)
class Decider:
    """Who is deciding, as the listener resolved it (the service never asks Slack).

    Attributes:
        user_id: the person who clicked or submitted.
        is_admin: a configured admin.
        is_manager: a configured manager (user id or member of a manager user group; admins too).
        delegators: approvers who are away today and named ``user_id`` as their delegate on the
            App Home (``bot.home.service.delegators_of``).
    """

    user_id: str
    is_admin: bool = False
    is_manager: bool = False
    delegators: frozenset[str] = frozenset()


def _authorize(
    snapshot: RequestSnapshot,
    *,
    decider: Decider,
    decision: Decision,
    revision: int,
    seen_step: int | None,
    checking: bool,
) -> Authority:
    """The rules of a decision on ``snapshot`` as it is now (the one copy :func:`decide` and
    :func:`check_can_decide` share); who may decide is :func:`bot.review.policy.authority`.

    ``seen_step`` is the step the decision modal showed: a decision counts for that step only, so a
    repeated or late submission never approves the step after it. ``checking``: at the click, before
    any modal exists (nothing to bind yet).
    """
    actor = decider.user_id
    if actor == snapshot.requester_id:
        raise ReviewNotAllowed("review.errors.own_request")
    if snapshot.status is not Status.PENDING:
        raise _closed(snapshot)
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
        row = await _row(session, ref.request_id)
        snapshot = (await _snapshots(session, [row]))[0]
        try:
            granted = _authorize(
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
                mode=step.mode if step else "any",
                approvers=step.approvers if step else (),
                approved_by=step.approved_by if step else (),
                new=granted,
            )
            last_step = step_number >= len(snapshot.steps) - 1
            if not done:
                outcome, kind, values = "step_approved", EventKind.STEP_APPROVED, {}
            elif last_step:
                outcome, kind = "approved", EventKind.APPROVED
                values = {"status": Status.APPROVED.value, "decided_at": now, "next_reminder_at": None}
            else:
                outcome, kind = "advanced", EventKind.STEP_APPROVED
                values = {
                    "current_step": step_number + 1,
                    "waiting_since": now,
                    "reminders_sent": 0,
                    "escalated_at": None,
                    "next_reminder_at": now,
                }
        elif decision is Decision.REQUEST_CHANGES:
            outcome, kind = "changes_requested", EventKind.CHANGES_REQUESTED
            values = {"status": Status.CHANGES_REQUESTED.value, "next_reminder_at": None}
        else:
            outcome, kind = "rejected", EventKind.REJECTED
            values = {"status": Status.REJECTED.value, "decided_at": now, "next_reminder_at": None}
        if not await _guarded_update(session, row, expected=Status.PENDING, **values):
            log.info(
                "review %s: lost a race deciding (%s by %s); reading again", row.id, decision, decider.user_id
            )
            continue
        data: dict[str, Any] = {"as": granted.kind}
        if granted.on_behalf_of:
            data["on_behalf_of"] = list(granted.on_behalf_of)
        session.add(
            _event(
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


def _check_comment(snapshot: RequestSnapshot, decider: Decider) -> None:
    if decider.user_id == snapshot.requester_id:
        raise ReviewNotAllowed("review.errors.own_comment")
    if snapshot.status not in OPEN_FOR_COMMENT:
        raise _closed(snapshot)
    if not may_comment(
        actor=decider.user_id,
        requester=snapshot.requester_id,
        approvers={u for step in snapshot.steps for u in step.approvers},
        invitees=snapshot.invitees,
        is_manager=decider.is_manager,
        is_admin=decider.is_admin,
    ):
        raise ReviewNotAllowed("review.errors.not_reviewer")


async def _comment(
    session: AsyncSession,
    *,
    ref: RequestRef,
    decider: Decider,
    feedback: Feedback,
    now: datetime,
) -> DecisionResult:
    snapshot = await get_request(session, request_id=ref.request_id)
    _check_comment(snapshot, decider)
    session.add(
        _event(
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
        outcome="commented",
        at=now,
        step=snapshot.current_step,
    )


async def check_can_decide(
    session: AsyncSession, *, ref: RequestRef, decider: Decider, decision: Decision
) -> RequestSnapshot:
    """The same rules as :func:`decide`, checked before a feedback modal opens (nothing is written),
    so a refusal comes at the click rather than after typing. The modal then carries the step it
    shows (``ModalMeta.step``), and its submission counts for that step only."""
    snapshot = await get_request(session, request_id=ref.request_id)
    if decision is Decision.COMMENT:
        _check_comment(snapshot, decider)
        return snapshot
    _authorize(
        snapshot, decider=decider, decision=decision, revision=ref.revision, seen_step=None, checking=True
    )
    return snapshot


# ---------------------------------------------------------------------------------------------
# Resubmitting and publishing
# ---------------------------------------------------------------------------------------------


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
) -> ResubmitResult:
    """Store a new revision after changes were requested; the chain starts again at its first step.

    Raises:
        ReviewNotAllowed: not the requester.
        ReviewConflict: not waiting for a resubmission (any more), or an older revision's button.
    """
    for _attempt in range(MAX_ATTEMPTS):
        before = await check_requester(session, ref=ref, actor_id=actor_id, expected=Status.CHANGES_REQUESTED)
        row = await _row(session, ref.request_id)
        revision = row.revision + 1
        moved = await _guarded_update(
            session,
            row,
            expected=Status.CHANGES_REQUESTED,
            status=Status.PENDING.value,
            revision=revision,
            current_step=0,
            planned_at=planned_at,
            due_at=planned_at,
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
            _event(
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
    """Mark an approved request as published and add the post to the KPI store (``post`` table,
    ``source = "review"``; metrics are collected later by the collectors).

    Raises:
        ReviewNotAllowed: neither the requester nor an admin.
        ReviewConflict: not approved (or already published).
        BotError: ``review.errors.url_taken`` (block ``review_post_url``) when that post is already
            in the store.
    """
    for _attempt in range(MAX_ATTEMPTS):
        snapshot = await check_requester(
            session, ref=ref, actor_id=actor_id, expected=Status.APPROVED, is_admin=is_admin
        )
        existing = await session.scalar(
            select(Post.id).where(Post.platform == account.platform, Post.external_id == url)
        )
        if existing is not None:
            raise BotError("review.errors.url_taken", block_id="review_post_url")
        row = await _row(session, ref.request_id)
        if not await _guarded_update(
            session, row, expected=Status.APPROVED, status=Status.PUBLISHED.value, published_at=published_at
        ):
            continue
        try:
            async with session.begin_nested():
                session.add(
                    Post(
                        account_key=account.key,
                        platform=account.platform,
                        external_id=url,
                        url=url,
                        text=snapshot.text,
                        published_at=published_at,
                        author=snapshot.requester_id,
                        review_request_id=snapshot.id,
                        source="review",
                        created_at=now,
                    )
                )
        except IntegrityError:
            # Recorded by someone else between the check and the insert (an import, a collector).
            raise BotError("review.errors.url_taken", block_id="review_post_url") from None
        session.add(
            _event(
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


# ---------------------------------------------------------------------------------------------
# Reminders and escalation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertClaim:
    """A reminder or escalation this process has claimed and must now send."""

    kind: AlertKind
    number: int
    request: RequestSnapshot


class AlreadyClaimed(Exception):
    """Another run sent this alert; raised inside the unit of work so its changes roll back."""


async def due_alerts(session: AsyncSession, *, now: datetime, limit: int = 200) -> list[int]:
    """Ids of waiting requests whose next reminder check is due."""
    rows = await session.scalars(
        select(ReviewRequest.id)
        .where(
            ReviewRequest.status == Status.PENDING.value,
            ReviewRequest.next_reminder_at.is_not(None),
            ReviewRequest.next_reminder_at <= now,
        )
        .order_by(ReviewRequest.next_reminder_at, ReviewRequest.id)
        .limit(limit)
    )
    return list(rows.all())


async def claim_alert(
    session: AsyncSession,
    *,
    request_id: int,
    now: datetime,
    review: ReviewSettings,
    calendar: WorkCalendar,
) -> AlertClaim | None:
    """Claim the request's due reminder or escalation, or push its next check to when one is due.

    Each alert has a key ``review:<id>:<revision>:<step>:<kind>:<n>`` claimed in the same
    transaction as the counters, so restarts and several replicas never send one twice.
    Outside working hours nothing is sent; the check moves to the next opening.

    Raises:
        AlreadyClaimed: the alert was sent by another run (the caller rolls back and moves on).
    """
    row = await _row(session, request_id)
    if row.status != Status.PENDING.value:
        return None
    alert = next_alert(
        waiting_since=row.waiting_since,
        reminders_sent=row.reminders_sent,
        escalated=row.escalated_at is not None,
        due_at=row.due_at,
        settings=review,
        calendar=calendar,
    )
    if alert.at > now:
        row.next_reminder_at = alert.at
        return None
    opening = calendar.next_opening(now)
    if opening > now:
        log.info("review %s: %s due but outside working hours; next check %s", row.id, alert.kind, opening)
        row.next_reminder_at = opening
        return None
    escalated = row.escalated_at is not None or alert.kind == "escalate"
    sent = row.reminders_sent + (1 if alert.kind == "remind" else 0)
    number = sent if alert.kind == "remind" else 1
    following = next_alert(
        waiting_since=row.waiting_since,
        reminders_sent=sent,
        escalated=escalated,
        due_at=row.due_at,
        settings=review,
        calendar=calendar,
    )
    values: dict[str, Any] = {"reminders_sent": sent, "next_reminder_at": max(following.at, now)}
    if alert.kind == "escalate":
        values["escalated_at"] = now
    if not await _guarded_update(session, row, expected=Status.PENDING, **values):
        return None  # decided or moved on meanwhile; the next sweep looks again
    key = f"review:{row.id}:{row.revision}:{row.current_step}:{alert.kind}:{number}"
    if not await claim_key(session, key=key, now=now):
        raise AlreadyClaimed(key)
    kind = EventKind.REMINDED if alert.kind == "remind" else EventKind.ESCALATED
    session.add(
        _event(
            row.id,
            kind,
            actor_id=None,
            revision=row.revision,
            step=row.current_step,
            now=now,
            data={"number": number, "due": alert.at.isoformat()},
        )
    )
    await session.flush()
    return AlertClaim(kind=alert.kind, number=number, request=await get_request(session, request_id=row.id))
